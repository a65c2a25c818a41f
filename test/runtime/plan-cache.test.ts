import { describe, expect, it } from "vitest";
import pg from "pg";
import { databaseUrl, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { fetchJobs } from "../../src/runner/queries.js";

// The prepared claim must settle on PostgreSQL's generic plan: a claim that
// is re-planned on every call spends as long planning as claiming. It once
// was for nodes with one or two task keys (see pickDueJobs).
describe("the prepared claim", () => {
  for (const keyCount of [1, 2, 40]) {
    it(`keeps one generic plan for a node with ${keyCount} task key(s)`, async () => {
      const db = await testDatabase();
      const d = await db.start({ run: false });
      const keys = ["test#echo:h-test#echo", ...Array.from({ length: keyCount - 1 }, (_, i) => `other#${i}:h`)];
      const client = new pg.Client({ connectionString: databaseUrl() });
      await client.connect();
      try {
        for (let i = 0; i < 12; i++) {
          if (i % 2 === 0) await d.async(tasks.echo, { value: i });
          await client.query({ name: "claim-under-test", text: fetchJobs(db.q), values: ["ad_hoc_worker", keys, 1, "node-a", 1_000_000] });
        }
        const { rows } = await client.query("select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where name = 'claim-under-test'");
        // PostgreSQL plans the first five calls with their values, then compares.
        expect(rows[0]).toEqual({ generic: 7, custom: 5 });
      } finally {
        await client.end();
      }
    });
  }
});
