import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import { __durableTask, durable } from "../../src/index.js";

// A long sequential chain stays fast: a replay reads the job's journal in one
// query, however many steps it recorded, and runs none of them again.
const ran: number[] = [];
const failed = new Set<string>();
const longChain = __durableTask({
  id: "steps-chain#longChain", hash: "h-chain", caller: { file: "test/steps/chain.test.ts", fn: "longChain", line: 1, column: 1 },
  source: "() => …", captures: ["count"], kind: "async",
  run: async ({ count }: any) => {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += await durable.step(() => (ran.push(i), i));
    const { jobId } = durable.context();
    if (!failed.has(jobId)) {
      failed.add(jobId);
      throw new Error("fail once after every step was recorded");
    }
    return sum;
  },
});

describe("a long chain of steps", () => {
  it("200 recorded steps replay from one journal query, none runs twice", async () => {
    const db = await testDatabase();
    const d = await db.start({ queues: { ad_hoc_worker: 1 } });
    const pool = d.pool;
    const journalReads: string[] = [];
    const query = pool.query.bind(pool);
    (pool as any).query = (text: any, ...rest: any[]) => {
      const sql = typeof text === "string" ? text : text?.text;
      if (typeof sql === "string" && /from \S+\.steps s left join/.test(sql)) journalReads.push(sql);
      return (query as any)(text, ...rest);
    };
    const job = await d.async(longChain, { count: 200 }, { backoff: { type: "fixed", delay: 10 } });
    expect(await d.await(job, { timeout: "60s" })).toBe((199 * 200) / 2);
    expect(ran).toHaveLength(200);
    // Two executions (the first, and the retry): one journal read each.
    expect(journalReads).toHaveLength(2);
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.steps where parent_id = $1`, [job.id]);
    expect(rows[0].n).toBe(200);
    // Deleting (or pruning) the job deletes its journal with it.
    expect(await d.jobs.delete({ ids: [job.id] })).toBe(1);
    const left = await db.pool.query(`select count(*)::int as n from ${db.q}.steps where parent_id = $1`, [job.id]);
    expect(left.rows[0].n).toBe(0);
  });
});
