import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { fetchJobs } from "../../src/runner/queries.js";
import { claimLimited } from "../../src/runner/limits.js";

// A claim is bounded by bytes as well as by count: rows whose captures are
// huge come one per claim (the first always comes), and the producer keeps
// claiming instead of taking a short claim for "nothing more is due".

type Db = Awaited<ReturnType<typeof testDatabase>>;

const MB = 1024 * 1024;
async function insertBig(db: Db, n: number, bytes: number): Promise<string[]> {
  const { rows } = await db.pool.query(
    `insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures)
     select 'available', 'ad_hoc_worker', 'test#sleep', 'h-test#sleep', 1, 60000, json_build_object('json', json_build_object('ms', 1, 'pad', repeat('x', $2)))
     from generate_series(1, $1) returning id::text`,
    [n, bytes],
  );
  return rows.map((r) => r.id);
}

describe("claims bounded by bytes", () => {
  it("take huge rows one per claim, the first always, and say when the budget cut them short", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await insertBig(db, 3, 3 * MB);
    await d.asyncMany([[tasks.add, { a: 1, b: 1 }], [tasks.add, { a: 2, b: 2 }]]);
    const keys = ["test#sleep:h-test#sleep", "test#add:h-test#add"];
    const claim = async () => (await db.pool.query(fetchJobs(db.q), ["ad_hoc_worker", keys, 10, "node", MB])).rows;
    for (let i = 0; i < 3; i++) {
      const rows = await claim();
      expect(rows.map((r) => [r.task_id, r.budget_full])).toEqual([["test#sleep", true]]);
    }
    expect((await claim()).map((r) => [r.task_id, r.budget_full])).toEqual([["test#add", false], ["test#add", false]]);
    // The limited claim obeys the same budget.
    await insertBig(db, 2, 3 * MB);
    const limited = await claimLimited(db.pool, db.q, "ad_hoc_worker", keys, 10, "node", { globalConcurrency: 100, rateLimit: null }, MB);
    expect(limited.jobs.map((j) => j.budget_full)).toEqual([true]);
  });

  it("a worker keeps claiming after a claim its budget cut short, without waiting for the poll", async () => {
    const db = await testDatabase();
    const d = await db.start({ queues: { ad_hoc_worker: 3 }, maxClaimBytes: MB, pollInterval: 3_600_000 });
    const big = await insertBig(db, 3, 2 * MB);
    // Raw inserts notify nobody: this enqueue is the only wake-up.
    const ordinary = await d.async(tasks.add, { a: 1, b: 2 });
    expect(await d.await(ordinary, { timeout: "20s" })).toBe(3);
    await eventually("the huge jobs completed too", async () =>
      (await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where id = any($1::bigint[]) and state = 'completed'`, [big])).rows[0].n === 3);
  });
});
