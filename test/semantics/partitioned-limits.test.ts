import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import { startWorkerProcess } from "../support/processes.js";
import * as t from "../support/semantics-tasks.mjs";

const Q = "ad_hoc_worker";

describe("partitioned rate limits", () => {
  it("rateLimit by meta.accountId: a noisy account uses its own budget, never the others', across two worker processes", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await api.queues.configure(Q, { rateLimit: { allowed: 3, period: "1h", by: "meta.accountId" } });
    await Promise.all([startWorkerProcess(db.schema, { concurrency: 5 }), startWorkerProcess(db.schema, { concurrency: 5 })]);
    const job = (accountId: string | null) => [t.echo, { value: accountId }, accountId === null ? {} : { meta: { accountId } }] as [any, any, any];
    // The noisy account first, so its jobs are ahead of everyone else's in the queue.
    await api.asyncMany([...Array.from({ length: 12 }, () => job("noisy")), ...[1, 2, 3].flatMap(() => [job("a"), job("b"), job(null)])]);
    await eventually("every account to use its budget", async () => (await api.jobs.count({ state: "completed" })) === 3 + 3 + 3 + 3);
    const { rows } = await db.pool.query(`
      select coalesce(meta->>'accountId', '-') as account, count(*) filter (where state = 'completed')::int as done,
             count(*) filter (where state = 'available')::int as waiting
      from ${db.q}.jobs group by 1 order by 1`);
    expect(rows).toEqual([
      { account: "-", done: 3, waiting: 0 },
      { account: "a", done: 3, waiting: 0 },
      { account: "b", done: 3, waiting: 0 },
      { account: "noisy", done: 3, waiting: 9 },
    ]);
    const { rows: starts } = await db.pool.query(`select rate_key, count(*)::int as n from ${db.q}.rate_limit_starts group by 1 order by 1`);
    expect(starts).toEqual([{ rate_key: "", n: 3 }, { rate_key: "a", n: 3 }, { rate_key: "b", n: 3 }, { rate_key: "noisy", n: 3 }]);
    expect((await api.queues.list()).find((q) => q.name === Q)!.rateLimit).toEqual({ allowed: 3, periodMs: 3_600_000, by: "meta.accountId" });
  });

  it("each partition's window holds over time: allowed 2 per 1 s per account, never more in any window", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await api.queues.configure(Q, { rateLimit: { allowed: 2, period: "1s", by: "meta.accountId" } });
    await Promise.all([startWorkerProcess(db.schema, { concurrency: 5 }), startWorkerProcess(db.schema, { concurrency: 5 })]);
    await api.asyncMany(["x", "y"].flatMap((accountId) => Array.from({ length: 6 }, () => [t.echo, { value: 1 }, { meta: { accountId } }] as [any, any, any])));
    await eventually("all jobs to complete", async () => (await api.jobs.count({ state: "completed" })) === 12, 30_000);
    const { rows } = await db.pool.query(`
      select max((select count(*) from ${db.q}.jobs k where k.meta->>'accountId' = j.meta->>'accountId'
                  and k.attempted_at >= j.attempted_at and k.attempted_at < j.attempted_at + interval '1 second'))::int as worst
      from ${db.q}.jobs j`);
    expect(rows[0].worst).toBeLessThanOrEqual(2);
  });

  it("refuses a path outside meta", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await expect(api.queues.configure(Q, { rateLimit: { allowed: 1, period: "1s", by: "captures.x" } })).rejects.toThrow(/rateLimit.by.*meta.accountId/);
  });
});
