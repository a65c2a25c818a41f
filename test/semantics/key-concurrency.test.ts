import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import { startWorkerProcess } from "../support/processes.js";
import * as t from "../support/semantics-tasks.mjs";

/** Per key: the most [attempted_at, completed_at) intervals that overlap at any job's start, from recorded times. */
async function worstOverlapByKey(db: { pool: any; q: string }): Promise<Record<string, number>> {
  const { rows } = await db.pool.query(`
    select j.concurrency_key as key,
           max((select count(*) from ${db.q}.jobs k
                where k.concurrency_key = j.concurrency_key and k.attempted_at <= j.attempted_at and k.completed_at > j.attempted_at))::int as worst
    from ${db.q}.jobs j where j.concurrency_key is not null group by j.concurrency_key`);
  return Object.fromEntries(rows.map((r: any) => [r.key, r.worst]));
}

describe("per-key concurrency", () => {
  it("across two worker processes: limit 1 never overlaps, limit 2 never exceeds 2, and other keys keep progressing", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await Promise.all([startWorkerProcess(db.schema, { concurrency: 8 }), startWorkerProcess(db.schema, { concurrency: 8 })]);
    const jobs: Array<[any, any, any]> = [];
    for (let i = 0; i < 6; i++) jobs.push([t.hold, { ms: 250 }, { concurrency: { key: "customer-A", limit: 1 } }]);
    for (let i = 0; i < 10; i++) jobs.push([t.hold, { ms: 150 }, { concurrency: { key: "customer-B", limit: 2 } }]);
    for (let i = 0; i < 12; i++) jobs.push([t.hold, { ms: 20 }, { concurrency: { key: `other-${i}`, limit: 1 } }]);
    for (let i = 0; i < 12; i++) jobs.push([t.hold, { ms: 20 }, {}]);
    await api.asyncMany(jobs);
    await eventually("all jobs to complete", async () => (await api.jobs.count({ state: "completed" })) === jobs.length, 60_000);
    const worst = await worstOverlapByKey(db);
    expect(worst["customer-A"]).toBe(1);
    expect(worst["customer-B"]).toBeLessThanOrEqual(2);
    expect(worst["customer-B"]).toBe(2); // the limit is used, not undershot
    // No head-of-line blocking: every other key and every unkeyed job started before customer A's chain (6 × 250 ms) ended.
    const { rows } = await db.pool.query(`
      select (select max(attempted_at) from ${db.q}.jobs where concurrency_key is distinct from 'customer-A' and concurrency_key is distinct from 'customer-B')
               < (select max(attempted_at) from ${db.q}.jobs where concurrency_key = 'customer-A') as others_first,
             (select count(distinct node_id) from ${db.q}.jobs) as nodes`);
    expect(rows[0].others_first).toBe(true);
    const { rows: byNode } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs_finished group by completed_at is not null`);
    expect(byNode[0].n).toBe(jobs.length);
  });

  it("a chain of five limit-1 jobs runs one at a time to the end across two processes", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await Promise.all([startWorkerProcess(db.schema, { concurrency: 4 }), startWorkerProcess(db.schema, { concurrency: 4 })]);
    const handles = await api.asyncMany(Array.from({ length: 5 }, () => [t.hold, { ms: 50 }, { concurrency: { key: "k", limit: 1 } }] as [any, any, any]));
    for (const h of handles) await api.await(h, { timeout: "30s" });
    expect((await worstOverlapByKey(db)).k).toBe(1);
  });

  it("a saturated key with more due jobs than the claim's first look does not hold back a key behind it", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const busy = { concurrency: { key: "busy", limit: 1 } };
    // 700 jobs of one key ahead of the other key's job: more than the first window of due keyed jobs (500).
    await api.asyncMany(Array.from({ length: 700 }, () => [t.waitForCancel, {}, busy] as [any, any, any]));
    const late = await api.async(t.echo, { value: "not held back" }, { concurrency: { key: "late", limit: 1 } });
    await db.start();
    expect(await api.await(late, { timeout: "30s" })).toBe("not held back");
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where concurrency_key = 'busy' and state = 'executing'`);
    expect(rows[0].n).toBe(1);
    await api.jobs.cancel({ state: ["available", "executing"] });
  });

  it("refuses a bad concurrency option at the call", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    expect(() => api.async(t.echo, { value: 1 }, { concurrency: { key: "", limit: 1 } })).toThrow(/concurrency.key/);
    expect(() => api.async(t.echo, { value: 1 }, { concurrency: { key: "a", limit: 0 } })).toThrow(/concurrency.limit/);
    expect(() => api.async(t.echo, { value: 1 }, { concurrency: { key: "a", limt: 2 } as any })).toThrow(/did you mean "limit"/i);
    const ok = await api.async(t.echo, { value: 1 }, { concurrency: { key: 42 } });
    const { rows } = await db.pool.query(`select concurrency_key, concurrency_limit from ${db.q}.jobs where id = $1`, [ok.id]);
    expect(rows[0]).toEqual({ concurrency_key: "42", concurrency_limit: 1 });
  });
});
