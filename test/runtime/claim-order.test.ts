import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import { fetchJobs } from "../../src/runner/queries.js";
import { claimLimited } from "../../src/runner/limits.js";

// The claim reads one head per task key the node claims and merges them:
// what it takes must still be the queue's order across tasks (priority, then
// due time, then id), and due work of other tasks or other body hashes must
// never be taken, however much of it sits ahead.
const QUEUE = "ad_hoc_worker";

async function insertJobs(db: { pool: import("pg").Pool; q: string }, rows: Array<{ task: string; hash: string; priority?: number; ageS: number }>): Promise<string[]> {
  const ids: string[] = [];
  for (const r of rows) {
    const { rows: [row] } = await db.pool.query(
      `insert into ${db.q}.jobs (state, queue, task_id, body_hash, priority, max_attempts, timeout_ms, captures, run_at)
       values ('available', $1, $2, $3, $4, 3, 60000, '{"json":{}}', now() - $5 * interval '1 second') returning id::text`,
      [QUEUE, r.task, r.hash, r.priority ?? 0, r.ageS],
    );
    ids.push(row.id);
  }
  return ids;
}

describe("the claim", () => {
  it("takes jobs across tasks by priority, then due time, then id", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const [a1, b1, a2, b2, c1, a3] = await insertJobs(db, [
      { task: "app#a", hash: "ha", ageS: 50 },
      { task: "app#b", hash: "hb", ageS: 40 },
      { task: "app#a", hash: "ha", ageS: 30 },
      { task: "app#b", hash: "hb", ageS: 60, priority: 1 },
      { task: "app#c", hash: "hc", ageS: 10 },
      { task: "app#a", hash: "ha", ageS: 5, priority: 2 },
    ]);
    const keys = ["app#a:ha", "app#b:hb", "app#c:hc"];
    const claim = async (n: number) => (await db.pool.query(fetchJobs(db.q), [QUEUE, keys, n, "node-a", 1_000_000])).rows.map((r) => r.id);
    expect(await claim(3)).toEqual([a1, b1, a2]);
    expect(await claim(2)).toEqual([c1, b2]);
    expect(await claim(5)).toEqual([a3]);
  });

  it("never takes due jobs of tasks or body hashes the node does not claim, however many are ahead", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    // 300 jobs this node cannot run, all older than its own.
    await db.pool.query(
      `insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, run_at)
       select 'available', $1, case when g % 2 = 0 then 'app#other' else 'app#mine' end, case when g % 2 = 0 then 'h1' else 'h-old' end,
              3, 60000, '{"json":{}}', now() - interval '1 hour'
       from generate_series(1, 300) g`,
      [QUEUE],
    );
    const own = await insertJobs(db, [{ task: "app#mine", hash: "h-new", ageS: 1 }, { task: "app#mine", hash: "h-new", ageS: 0 }]);
    const plain = (await db.pool.query(fetchJobs(db.q), [QUEUE, ["app#mine:h-new"], 1, "node-a", 1_000_000])).rows;
    expect(plain.map((r) => r.id)).toEqual([own[0]]);
    const limited = await claimLimited(db.pool, db.q, QUEUE, ["app#mine:h-new"], 10, "node-b", { globalConcurrency: 10, rateLimit: null }, 1_000_000);
    expect(limited.jobs.map((j) => j.id)).toEqual([own[1]]);
    const { rows: [left] } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs_active where state = 'available'`);
    expect(left.n).toBe(300);
  });

  it("splits a key at its last colon, so task names may hold colons", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const [id] = await insertJobs(db, [{ task: "billing:charge:v2", hash: "abc123", ageS: 1 }]);
    const { rows } = await db.pool.query(fetchJobs(db.q), [QUEUE, ["billing:charge:v2:abc123"], 10, "node-a", 1_000_000]);
    expect(rows.map((r) => r.id)).toEqual([id]);
    expect(rows[0].task_id).toBe("billing:charge:v2");
  });
});
