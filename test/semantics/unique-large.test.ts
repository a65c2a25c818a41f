import { describe, expect, it } from "vitest";
import pg from "pg";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { InvalidOptionError } from "../../src/errors.js";

// Each unique key holds an advisory lock until commit; Postgres's shared lock
// table overflows ("out of shared memory") somewhere past ~20k-50k of them.
describe("large unique batches", () => {
  it("insert in bounded transactions: 40,000 unique jobs in one call, each key once", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const items = Array.from({ length: 40_000 }, (_, n) => [tasks.record, { n: n % 30_000 }, { unique: { period: "1h" } }] as [any, any, any]);
    const handles = await d.asyncMany(items);
    expect(handles).toHaveLength(40_000);
    expect(handles.filter((h) => h.conflict)).toHaveLength(10_000); // the repeats point at the first 30,000
    expect(handles[30_000]!.id).toBe(handles[0]!.id);
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`);
    expect(rows[0].n).toBe(30_000);
  });

  it("inside the caller's transaction, a batch past the lock table's reach is refused with the fix", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("begin");
      const items = Array.from({ length: 5_000 }, (_, n) => [tasks.record, { n }, { unique: { period: "1h" }, client }] as [any, any, any]);
      const error = await d.asyncMany(items).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toMatch(/at most 4000 unique jobs per transaction/);
      await client.query("rollback");
    } finally {
      await client.end();
    }
  });
});
