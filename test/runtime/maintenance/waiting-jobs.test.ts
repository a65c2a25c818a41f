import { describe, expect, it } from "vitest";
import { testDatabase } from "../../support/db.js";
import { waitingJobsService } from "../../../src/runner/maintenance/waiting-jobs.js";
import { cancelFailedDependents, wakeWaitingJobs } from "../../../src/steps/queries.js";

/** Rows each scan of `relation` read (returned plus filtered out), over all its loops. */
function rowsRead(plan: any, relation: string): number {
  let read = 0;
  const walk = (node: any) => {
    if (node["Relation Name"] === relation && /Scan/.test(node["Node Type"])) read += (node["Actual Rows"] + (node["Rows Removed by Filter"] ?? 0)) * node["Actual Loops"];
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan);
  return read;
}

// The sweep that wakes waiting jobs no end woke reads one page of waiting
// jobs per pass, so its cost does not grow with how many jobs wait; every
// waiting job is still reached, a page at a time, and the pages wrap around.

describe("the waiting-jobs sweep", () => {
  it("reads one page per pass, reaches every page, and starts again after the last", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const insert = (state: string, waitingFor: string | null) =>
      db.pool.query(`insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, waiting_for, run_at)
        values ($1, 'ad_hoc_worker', 'x#0', 'h', 1, 1000, '{"json":{}}', $2::bigint[], now() + interval '10 years') returning id::text`, [state, waitingFor]);
    const child = (await insert("executing", null)).rows[0].id;
    // Five parents still waiting on a running child, then one whose wait is over (its child is gone).
    const blocked: string[] = [];
    for (let i = 0; i < 5; i++) blocked.push((await insert("waiting", `{${child}}`)).rows[0].id);
    const due = (await insert("waiting", "{999999999}")).rows[0].id;

    const woke: string[] = [];
    const sweep = waitingJobsService({ pool: db.pool, quotedSchema: db.q, intervalMs: 1_000, wake: (q) => void woke.push(q), page: 2 });
    const stateOf = async (id: string) => (await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [id])).rows[0].state;

    await sweep.run(); // blocked[0..1]
    await sweep.run(); // blocked[2..3]
    expect(await stateOf(due)).toBe("waiting");
    expect(woke).toEqual([]);
    await sweep.run(); // blocked[4], due: a short page, so the next pass starts over
    expect(await stateOf(due)).toBe("available");
    expect(woke).toEqual(["ad_hoc_worker"]);

    // Started over: a parent at the start of the list whose wait ends now is woken on the next pass.
    await db.pool.query(`update ${db.q}.jobs set state = 'completed', finished_at = now(), completed_at = now() where id = $1`, [child]);
    await sweep.run();
    expect((await Promise.all(blocked.slice(0, 2).map(stateOf)))).toEqual(["available", "available"]);
    expect(await stateOf(blocked[2]!)).toBe("waiting");
  });

  it("looks dependencies up by id even when the statistics predate the failures", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const job = (state: string, extra = "") =>
      `insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, attempt${extra ? ", finished_at" : ""})
       select '${state}', 'ad_hoc_worker', 'x#0', 'h', 1, 1000, '{"json":{}}', 1${extra ? ", now()" : ""}`;
    await db.pool.query(`${job("completed", "f")} from generate_series(1, 200000)`);
    await db.pool.query(`analyze ${db.q}.jobs_finished`);
    // Failures after the last analyze (autovacuum analyzes again after 10% of the table changed).
    await db.pool.query(`${job("discarded", "f")} from generate_series(1, 3000)`);
    const failed = (await db.pool.query(`${job("discarded", "f")} returning id::text`)).rows[0].id;
    const running = (await db.pool.query(`${job("executing")} returning id::text`)).rows[0].id;
    // 3,000 jobs waiting on a running child, and one whose `after` dependency failed.
    await db.pool.query(`insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, waiting_for)
      select 'waiting', 'ad_hoc_worker', 'x#0', 'h', 1, 1000, '{"json":{}}', array[$1::bigint] from generate_series(1, 3000)`, [running]);
    const doomed = (await db.pool.query(`insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, waiting_for)
      values ('waiting', 'ad_hoc_worker', 'x#0', 'h', 1, 1000, '{"json":{}}', array[$1::bigint]) returning id::text`, [failed])).rows[0].id;
    await db.pool.query(`insert into ${db.q}.steps (parent_id, step_key, position, kind, task_id, child_id) values ($1, 'after#' || $2, -1, 'after', 'cancel', $2::bigint)`, [doomed, failed]);
    await db.pool.query(`analyze ${db.q}.jobs_active`);

    const statements: Array<[string, unknown[]]> = [[cancelFailedDependents(db.q), ["0", 2_000, 10_000]], [wakeWaitingJobs(db.q), ["0", 2_000]]];
    for (const [sql, params] of statements) {
      await db.pool.query("begin");
      const { rows } = await db.pool.query(`explain (analyze, format json) ${sql}`, params);
      await db.pool.query("rollback");
      // One probe per dependency: 2,000 waiting jobs, not 2,000 × the 3,001 failed jobs.
      expect(rowsRead(rows[0]["QUERY PLAN"][0].Plan, "jobs_finished")).toBeLessThan(10_000);
    }
    const sweep = waitingJobsService({ pool: db.pool, quotedSchema: db.q, intervalMs: 1_000, wake: () => undefined });
    await sweep.run();
    await sweep.run();
    expect((await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [doomed])).rows[0].state).toBe("cancelled");
  });

  it("cancels the dependents of a recent failure on the next pass, whatever page they are on", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const insert = (state: string, waitingFor: string | null) =>
      db.pool.query(`insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, waiting_for, finished_at, attempt)
        values ($1, 'ad_hoc_worker', 'x#0', 'h', 1, 1000, '{"json":{}}', $2::bigint[], case when $1 in ('discarded', 'completed') then now() end, 1)
        returning id::text`, [state, waitingFor]);
    const running = (await insert("executing", null)).rows[0].id;
    for (let i = 0; i < 5; i++) await insert("waiting", `{${running}}`);
    const failed = (await insert("discarded", null)).rows[0].id;
    const doomed = (await insert("waiting", `{${failed}}`)).rows[0].id;
    await db.pool.query(`insert into ${db.q}.steps (parent_id, step_key, position, kind, task_id, child_id) values ($1, 'after#' || $2, -1, 'after', 'cancel', $2::bigint)`, [doomed, failed]);
    const sweep = waitingJobsService({ pool: db.pool, quotedSchema: db.q, intervalMs: 1_000, wake: () => undefined, page: 2 });
    await sweep.run(); // reads the first page only; the failure is recent
    const { rows } = await db.pool.query(`select state, errors->-1->>'code' as code from ${db.q}.jobs where id = $1`, [doomed]);
    expect(rows[0]).toEqual({ state: "cancelled", code: "DURABLE_DEPENDENCY_FAILED" });
  });
});
