import { describe, expect, it } from "vitest";
import { migrate } from "../../src/db/index.js";
import { loadMigrations } from "../../src/db/migrate.js";
import { testDatabase } from "../support/db.js";

// Three processes starting at once on a fresh schema: the advisory lock
// serializes them, but the waiters' catalog cache can still miss the schema
// the first one created (a duplicate-key error on pg_namespace). Every
// starter must succeed and exactly one applies each migration.
describe("concurrent first start", () => {
  it("three migrators on a fresh schema all succeed, repeatedly", async () => {
    const db = await testDatabase();
    const failures: string[] = [];
    for (let i = 0; i < 25; i++) {
      const schema = `${db.schema}_${i}`;
      const results = await Promise.allSettled([migrate(db.pool, schema), migrate(db.pool, schema), migrate(db.pool, schema)]);
      for (const r of results) if (r.status === "rejected") failures.push(String(r.reason));
      const applied = results.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
      expect(applied.sort((a, b) => a - b)).toEqual(loadMigrations().map((m) => m.version));
      await db.pool.query(`drop schema "${schema}" cascade`);
    }
    expect(failures).toEqual([]);
  });
});
