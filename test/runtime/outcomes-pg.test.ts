import { describe, expect, it } from "vitest";
import pg from "pg";
import { eventually, testDatabase } from "../support/db.js";
import { startWorkerProcess } from "../support/processes.js";
import * as tasks from "../support/tasks.mjs";
import { JobFailedError } from "../../src/errors.js";

// The completer on Postgres: a row the database refuses fails alone while
// every other outcome is recorded, and shutdown ends on time whether the
// database refuses every write or does not answer at all.

type Db = Awaited<ReturnType<typeof testDatabase>>;

/** A trigger that refuses the outcome writes `when` selects (a BEFORE UPDATE trigger on the active partition). */
async function refuseOutcomes(db: Db, when: string): Promise<void> {
  await db.pool.query(`
    create function ${db.q}.refuse() returns trigger language plpgsql as $$
    begin if ${when} then raise exception 'refused by a test trigger'; end if; return new; end $$;
    create trigger refuse before update on ${db.q}.jobs_active for each row execute function ${db.q}.refuse()`);
}

const sequence = (n: number, value: (i: number) => unknown) => Array.from({ length: n }, (_, i) => [tasks.echo, { value: value(i) }] as [typeof tasks.echo, Record<string, unknown>]);

describe("recording outcomes on Postgres", () => {
  it("a row the database refuses fails alone with a coded error; every other job completes", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    await refuseOutcomes(db, `old.state = 'executing' and new.state = 'completed' and new.result::text like '%poison%'`);
    const d = await db.start({ queues: { ad_hoc_worker: 4 } });
    const ordinary = await d.asyncMany(sequence(12, (i) => i));
    const poisoned = await d.asyncMany(sequence(2, (i) => `poison ${i}`).map(([t, c]) => [t, c, { maxAttempts: 2 }] as [typeof t, typeof c, { maxAttempts: number }]));
    expect(await d.awaitAll(ordinary, { timeout: "30s" })).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (const job of poisoned) {
      const error = (await d.await(job, { timeout: "30s" }).catch((e: unknown) => e)) as JobFailedError;
      expect(error).toBeInstanceOf(JobFailedError);
      expect(error.lastError?.code).toBe("DURABLE_OUTCOME_REJECTED");
      expect(error.lastError?.message).toMatch(/refused to record job \d+'s outcome \(completed\): refused by a test trigger \(SQLSTATE P0001\)/);
    }
    const { rows } = await db.pool.query(`select attempt, jsonb_array_length(errors)::int as errors from ${db.q}.jobs where id = any($1::bigint[])`, [poisoned.map((j) => j.id)]);
    expect(rows).toEqual([{ attempt: 2, errors: 2 }, { attempt: 2, errors: 2 }]); // each attempt spent and recorded, then discarded
  });

  it("stop() ends on time when the database refuses every outcome, and ordinary work before it was recorded", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const d = await db.start({ shutdownGrace: 500 });
    expect(await d.await(await d.async(tasks.add, { a: 1, b: 2 }), { timeout: "10s" })).toBe(3);
    await refuseOutcomes(db, `old.state = 'executing'`);
    const refused = await d.asyncMany(sequence(5, (i) => i));
    await eventually("the refused jobs ran", async () => (await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where state = 'executing' and attempt = 1`)).rows[0].n === 5);
    const started = Date.now();
    await d.stop();
    // grace (0.5 s) + at most a second per final step; without the bound this never returned.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(refused).toHaveLength(5);
  });

  it("stop() ends on time when the database does not answer (the table is locked)", async () => {
    const db = await testDatabase();
    const d = await db.start({ shutdownGrace: 500 });
    expect(await d.await(await d.async(tasks.add, { a: 1, b: 2 }), { timeout: "10s" })).toBe(3);
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query("begin");
      await locker.query(`lock table ${db.q}.jobs_active in access exclusive mode`);
      const job = d.async(tasks.sleep, { ms: 10 }); // the insert waits on the lock too
      const started = Date.now();
      await d.stop();
      expect(Date.now() - started).toBeLessThan(10_000);
      void job.catch(() => undefined);
    } finally {
      await locker.query("rollback").catch(() => undefined);
      await locker.end();
    }
  });

  it("results the old jsonb column refused (NUL, lone surrogates) complete with ordinary jobs on one worker process, which SIGTERM stops", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const worker = await startWorkerProcess(db.schema, { shutdownGraceMs: 1_000 });
    const odd = ["a" + String.fromCharCode(0) + "b", "Great job 😀 thanks".slice(0, 11), "😀".slice(1)];
    const jobs = await api.asyncMany([...sequence(8, (i) => i), ...sequence(3, (i) => odd[i])]);
    expect(await api.awaitAll(jobs, { timeout: "30s" })).toEqual([...Array.from({ length: 8 }, (_, i) => i), ...odd]);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).not.toBeUndefined();
  });

  it("SIGTERM stops a worker process on time while the database refuses its outcomes", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await refuseOutcomes(db, `old.state = 'executing'`);
    const worker = await startWorkerProcess(db.schema, { shutdownGraceMs: 500 });
    await api.asyncMany(sequence(5, (i) => i));
    await eventually("the jobs ran", async () => (await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where attempt = 1`)).rows[0].n === 5);
    const started = Date.now();
    worker.child.kill("SIGTERM");
    await worker.exited;
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("stop({ grace })", () => {
  it("takes a duration, and refuses what is not one without stopping", async () => {
    const db = await testDatabase();
    const d = await db.start();
    await expect(d.stop({ grace: "soon" })).rejects.toThrow(/`grace`: "soon" is not a duration/);
    expect(await d.await(await d.async(tasks.add, { a: 2, b: 2 }), { timeout: "10s" })).toBe(4); // still running
    await d.stop({ grace: "1s" });
  });
});
