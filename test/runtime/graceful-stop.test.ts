import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { startWorkerProcess } from "../support/processes.js";
import * as processTasks from "../support/process-tasks.mjs";

// A graceful stop: running jobs get the shutdown grace on this node and are
// never rescued by another meanwhile (the lease holds while they run); what
// is still running when the grace ends goes back with its attempt counted;
// what was claimed ahead and never started goes back at once, uncounted.

const lease = { heartbeatInterval: 100, leaseTtl: 500 };

describe("graceful stop", () => {
  it("a job longer than the lease finishes on the stopping node; another node never rescues it", async () => {
    const db = await testDatabase();
    const stopping = await db.start({ ...lease, queues: { ad_hoc_worker: 1 }, shutdownGrace: "10s" });
    const job = await stopping.async(tasks.sleep, { ms: 1_500 });
    // Running, not only claimed: a claimed job not yet started would be handed back at once instead.
    await eventually("the job runs on the first node", () => stopping.runner!.runningCount === 1);
    // A second node whose rescuer runs every 100 ms: it would take the job as soon as the lease lapsed.
    await db.start({ ...lease, queues: { ad_hoc_worker: 1 } });
    await stopping.stop();
    const { rows } = await db.pool.query(`select state, attempt, jsonb_array_length(errors) as errors from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0]).toEqual({ state: "completed", attempt: 1, errors: 0 });
  });

  it("past the grace, a running job goes back with its attempt counted: maxAttempts 1 is discarded, never run twice", async () => {
    const db = await testDatabase();
    const stopping = await db.start({ ...lease, queues: { ad_hoc_worker: 2 }, shutdownGrace: 300 });
    const once = await stopping.async(tasks.waitForAbort, {}, { maxAttempts: 1 });
    const again = await stopping.async(tasks.waitForAbort, {}, { maxAttempts: 3 });
    await eventually("both run", () => stopping.runner!.runningCount === 2);
    await stopping.stop();
    const { rows } = await db.pool.query(`select id::text, state, attempt, errors->-1->>'code' as code from ${db.q}.jobs where id = any($1::bigint[]) order by id`, [[once.id, again.id]]);
    expect(rows).toEqual([
      { id: once.id, state: "discarded", attempt: 1, code: "DURABLE_SHUTDOWN_INTERRUPTED" },
      { id: again.id, state: "available", attempt: 1, code: "DURABLE_SHUTDOWN_INTERRUPTED" },
    ]);
  });

  it("jobs claimed ahead and never started go back at once, their attempt not spent, while the running one gets its grace", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    // Short jobs first, so the node claims ahead; then a long one; then more short ones behind it.
    const first = await api.asyncMany(Array.from({ length: 40 }, (_, n) => [tasks.record, { n }] as [any, any]));
    const long = await api.async(tasks.sleep, { ms: 1_500 });
    const behind = await api.asyncMany(Array.from({ length: 20 }, (_, n) => [tasks.record, { n: 100 + n }] as [any, any]));
    const stopping = await db.start({ ...lease, queues: { ad_hoc_worker: 1 }, shutdownGrace: "10s" });
    // The first jobs done, the long one holds the only slot (its row says executing once claimed, even ahead).
    await eventually("the short jobs ran and the long one was claimed", async () => {
      const { rows } = await db.pool.query(`select count(*) filter (where state = 'completed')::int as done, bool_or(id = $2 and state = 'executing') as long from ${db.q}.jobs where id = any($1::bigint[]) or id = $2`, [first.map((h) => h.id), long.id]);
      return rows[0].done === first.length && rows[0].long;
    });
    const claimedAhead = (await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where id = any($1::bigint[]) and state = 'executing'`, [behind.map((h) => h.id)])).rows[0].n;
    expect(claimedAhead).toBeGreaterThan(0);
    const stopped = stopping.stop();
    // While the long job finishes, the jobs behind it are already back (attempt 0) for other nodes.
    await eventually("the unstarted jobs are back", async () => {
      const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where id = any($1::bigint[]) and state = 'available' and attempt = 0`, [behind.map((h) => h.id)]);
      return rows[0].n === behind.length;
    });
    expect((await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [long.id])).rows[0].state).toBe("executing");
    await stopped;
    expect((await db.pool.query(`select state, attempt from ${db.q}.jobs where id = $1`, [long.id])).rows[0]).toEqual({ state: "completed", attempt: 1 });
  });

  it("a second SIGTERM cuts the grace short: running jobs go back at once, attempt counted, and the process exits", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const worker = await startWorkerProcess(db.schema, { shutdownGraceMs: 60_000 });
    const started = worker.message<{ started: string }>((m) => m?.started !== undefined);
    const job = await api.async(processTasks.hangFirstAttempt, {}, { maxAttempts: 3 });
    expect((await started).started).toBe(job.id); // its closure runs (and never ends by itself)
    worker.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    expect(worker.child.exitCode).toBeNull(); // the first one waits for the job (a minute of grace)
    worker.child.kill("SIGTERM");
    await worker.exited;
    const { rows } = await db.pool.query(`select state, attempt, errors->-1->>'code' as code from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0]).toEqual({ state: "available", attempt: 1, code: "DURABLE_SHUTDOWN_INTERRUPTED" });
  });
});
