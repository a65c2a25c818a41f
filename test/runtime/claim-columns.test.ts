import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { fetchJobs } from "../../src/runner/queries.js";
import { claimLimited } from "../../src/runner/limits.js";

// The rate-limited claim once lost the `trace` column the plain claim returns
// (so limited jobs' spans were not linked): both now share one column list.
describe("claims", () => {
  it("the plain and the limited claim return the same columns", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.asyncMany([[tasks.echo, { value: 1 }], [tasks.echo, { value: 2 }]]);
    const keys = ["test#echo:h-test#echo"];
    const plain = (await db.pool.query(fetchJobs(db.q), ["ad_hoc_worker", keys, 1, "node-a", 1_000_000])).rows[0];
    const limited = (await claimLimited(db.pool, db.q, "ad_hoc_worker", keys, 1, "node-b", { globalConcurrency: 5, rateLimit: null }, 1_000_000)).jobs[0];
    expect(plain).toBeDefined();
    expect(limited).toBeDefined();
    expect(Object.keys(limited!).sort()).toEqual(Object.keys(plain).sort());
    expect(Object.keys(plain)).toContain("trace");
  });
});
