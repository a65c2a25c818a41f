import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";

// A node claims short jobs ahead of its free slots (producer.ts). Those
// must not sit behind a long job: they go back for other nodes (and for a
// job of higher priority inserted meanwhile). Cancels and deadlines of
// claimed-ahead jobs: test/runtime/producer.test.ts.

describe("jobs claimed ahead of a long job", () => {
  it("go back and run on an idle node while the long job runs", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const first = await api.asyncMany(Array.from({ length: 40 }, (_, n) => [tasks.record, { n }] as [any, any]));
    const long = await api.async(tasks.sleep, { ms: 3_000 });
    const behind = await api.asyncMany(Array.from({ length: 20 }, (_, n) => [tasks.record, { n: 100 + n }] as [any, any]));
    const busy = await db.start({ queues: { ad_hoc_worker: 1 } });
    await eventually("the long job holds the busy node's only slot", async () => {
      const { rows } = await db.pool.query(`select count(*) filter (where state = 'completed')::int as done, bool_or(id = $2 and state = 'executing') as long from ${db.q}.jobs where id = any($1::bigint[]) or id = $2`, [first.map((h) => h.id), long.id]);
      return rows[0].done === first.length && rows[0].long;
    });
    await db.start({ queues: { ad_hoc_worker: 4 } });
    await eventually("the jobs behind it ran on the other node", async () => {
      const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where id = any($1::bigint[]) and state = 'completed'`, [behind.map((h) => h.id)]);
      return rows[0].n === behind.length;
    });
    expect((await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [long.id])).rows[0].state).toBe("executing");
    await busy.stop();
  });
});
