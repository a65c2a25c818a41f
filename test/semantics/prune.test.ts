import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";

describe("pruning", () => {
  it("deletes finished jobs past their state's retention, per-queue overrides included, and nothing else", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.queues.configure("short", { retention: { completed: "1d" } });
    await d.queues.configure("long", { retention: { discarded: "90d" } });
    // name: queue/state/age — those marked "gone" must be deleted, all others kept.
    const cases: Array<[string, string, string, string, "gone" | "kept"]> = [
      ["c8d", "ad_hoc_worker", "completed", "8 days", "gone"],
      ["c6d", "ad_hoc_worker", "completed", "6 days", "kept"],
      ["d31d", "ad_hoc_worker", "discarded", "31 days", "gone"],
      ["d29d", "ad_hoc_worker", "discarded", "29 days", "kept"],
      ["x31d", "ad_hoc_worker", "cancelled", "31 days", "gone"],
      ["x29d", "ad_hoc_worker", "cancelled", "29 days", "kept"],
      ["short-c2d", "short", "completed", "2 days", "gone"],
      ["short-c12h", "short", "completed", "12 hours", "kept"],
      ["short-d31d", "short", "discarded", "31 days", "gone"], // no override for discarded: default 30d
      ["long-d60d", "long", "discarded", "60 days", "kept"],
      ["long-d91d", "long", "discarded", "91 days", "gone"],
      ["long-c8d", "long", "completed", "8 days", "gone"],
      ["old-available", "ad_hoc_worker", "available", "400 days", "kept"],
      ["old-retryable", "ad_hoc_worker", "retryable", "400 days", "kept"],
    ];
    for (let copy = 0; copy < 3; copy++) {
      for (const [name, queue, state, age] of cases) {
        const finished = ["completed", "discarded", "cancelled"].includes(state);
        await db.pool.query(
          `insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, meta, inserted_at, finished_at, completed_at)
           values ($1, $2, 'prune#t', 'h', 1, 1000, '{}', jsonb_build_object('case', $3::text), now() - $4::interval - interval '1 minute',
                   case when $5 then now() - $4::interval end, case when $1 = 'completed' then now() - $4::interval end)`,
          [state, queue, name, age, finished],
        );
      }
    }
    const result = await d.jobs.prune({ batchSize: 2, maxBatches: 100 });
    const gone = cases.filter((c) => c[4] === "gone");
    expect(result.deleted.completed + result.deleted.discarded + result.deleted.cancelled).toBe(gone.length * 3);
    const { rows } = await db.pool.query(`select meta->>'case' as name, count(*)::int as n from ${db.q}.jobs group by 1 order by 1`);
    expect(rows).toEqual(cases.filter((c) => c[4] === "kept").map((c) => ({ name: c[0], n: 3 })).sort((a, b) => (a.name < b.name ? -1 : 1)));
    // A second pass (e.g. another node at the same time) finds nothing more.
    const again = await d.jobs.prune();
    expect(again.deleted).toEqual({ completed: 0, discarded: 0, cancelled: 0 });
  });

  it("two nodes pruning at once delete each row once", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await db.pool.query(
      `insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, finished_at, completed_at)
       select 'completed', 'ad_hoc_worker', 'prune#t', 'h', 1, 1000, '{}', now() - interval '8 days', now() - interval '8 days' from generate_series(1, 5000)`,
    );
    const [a, b] = await Promise.all([d.jobs.prune({ batchSize: 500, maxBatches: 100 }), d.jobs.prune({ batchSize: 500, maxBatches: 100 })]);
    // SKIP LOCKED lets a pass end early when the other holds the rows; the next pass finishes them.
    const c = await d.jobs.prune({ batchSize: 500, maxBatches: 100 });
    expect(a.deleted.completed + b.deleted.completed + c.deleted.completed).toBe(5000);
    expect(await d.jobs.count()).toBe(0);
  });
});
