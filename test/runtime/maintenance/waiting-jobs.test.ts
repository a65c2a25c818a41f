import { describe, expect, it } from "vitest";
import { testDatabase } from "../../support/db.js";
import { waitingJobsService } from "../../../src/runner/maintenance/waiting-jobs.js";

// The sweep that wakes waiting jobs no end woke reads one page of waiting
// jobs per pass, so its cost does not grow with how many jobs wait; every
// waiting job is still reached, a page at a time, and the pages wrap around.

describe("the waiting-jobs sweep", () => {
  it("reads one page per pass, reaches every page, and starts again after the last", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const insert = (state: string, waitingFor: string | null) =>
      db.pool.query(`insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, waiting_for)
        values ($1, 'ad_hoc_worker', 'x#0', 'h', 1, 1000, '{"json":{}}', $2::bigint[]) returning id::text`, [state, waitingFor]);
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
});
