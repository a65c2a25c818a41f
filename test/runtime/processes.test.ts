import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import { startWorkerProcess } from "../support/processes.js";
import * as ptasks from "../support/process-tasks.mjs";
import * as tasks from "../support/tasks.mjs";

describe("across processes", () => {
  it("two worker processes drain 2,000 jobs, each completed exactly once", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await db.pool.query(`create table ${db.q}.executions (job_id bigint, n int, pid int, attempt int)`);
    const [a, b] = await Promise.all([startWorkerProcess(db.schema), startWorkerProcess(db.schema)]);
    const handles = await api.asyncMany(Array.from({ length: 2000 }, (_, n) => [ptasks.recordExecution, { schema: db.schema, n }] as [any, any]));
    await eventually("all jobs completed", async () => {
      const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where state = 'completed'`);
      return rows[0].n === 2000;
    }, 60_000);
    const executions = await db.pool.query(`select job_id, count(*)::int as runs from ${db.q}.executions group by job_id having count(*) > 1`);
    expect(executions.rows).toEqual([]);
    const total = await db.pool.query(`select count(*)::int as n, count(distinct pid)::int as pids from ${db.q}.executions`);
    expect(total.rows[0]).toEqual({ n: 2000, pids: 2 });
    const attempts = await db.pool.query(`select max(attempt)::int as m from ${db.q}.jobs`);
    expect(attempts.rows[0].m).toBe(1);
    expect(handles).toHaveLength(2000);
    a.child.kill("SIGTERM");
    b.child.kill("SIGTERM");
    await Promise.all([a.exited, b.exited]);
    const nodes = await db.pool.query(`select count(*)::int as n from ${db.q}.nodes where queues <> '{}'::jsonb`); // the API node stays
    expect(nodes.rows[0].n).toBe(0); // graceful stop unregisters
  });

  it("a worker killed with SIGKILL mid-job has its job rescued and completed by another process within 15 s", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const doomed = await startWorkerProcess(db.schema);
    const job = await api.async(ptasks.hangFirstAttempt, {});
    await doomed.message((m) => m?.started === job.id);
    const survivor = await startWorkerProcess(db.schema);
    const killedAt = Date.now();
    doomed.child.kill("SIGKILL");
    const result = await api.await<{ attempt: number; pid: number }>(job, { timeout: "30s" });
    const rescueMs = Date.now() - killedAt;
    expect(result).toEqual({ attempt: 2, pid: survivor.pid });
    expect(rescueMs).toBeLessThan(15_000);
    const { rows } = await db.pool.query(`select errors from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0].errors[0]).toMatchObject({ attempt: 1, code: "DURABLE_NODE_LOST" });
    console.log(`rescued and completed ${rescueMs} ms after SIGKILL`);
  });

  it("await works from a process that did not enqueue the job", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const worker = await startWorkerProcess(db.schema);
    const client = await startWorkerProcess(db.schema, { mode: "client" });
    const job = await api.async(tasks.add, { a: 20, b: 22 });
    client.child.send({ await: job.id });
    expect(await client.message((m) => "result" in m || "error" in m)).toEqual({ result: 42 });
    void worker;
  });

  it("SIGTERM lets the running job finish before the process exits", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const worker = await startWorkerProcess(db.schema);
    const job = await api.async(tasks.sleep, { ms: 500 });
    await eventually("job started", async () => (await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [job.id])).rows[0].state === "executing");
    worker.child.kill("SIGTERM");
    await worker.exited;
    const { rows } = await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0].state).toBe("completed");
  });
});

describe("short-lived processes", () => {
  it("a script that enqueues without awaiting exits by itself, and the job is stored", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const { spawnSync } = await import("node:child_process");
    const script = `
      import { durable } from "${process.cwd()}/dist/src/index.js";
      import { add } from "${process.cwd()}/test/support/tasks.mjs";
      durable.async(add, { a: 1, b: 2 }); // fire and forget; no start(), no stop()`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema, DURABLE_LOG_LEVEL: "silent" },
    });
    expect(result.signal).toBeNull(); // not killed by the timeout: it exited on its own
    expect(result.status).toBe(0);
    const { rows } = await db.pool.query(`select task_id from ${db.q}.jobs`);
    expect(rows).toEqual([{ task_id: "test#add" }]);
  });
});
