import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";

// How many server connections one node holds: its pool (poolSize, opened on
// demand) plus one LISTEN connection. Counted on the server, by the
// application_name the node's connections carry.

async function peakWhile(count: () => Promise<number>, work: Promise<unknown>): Promise<number> {
  let peak = 0;
  let busy = true;
  void work.finally(() => (busy = false));
  while (busy) {
    peak = Math.max(peak, await count());
    await new Promise((r) => setTimeout(r, 10));
  }
  await work;
  return Math.max(peak, await count());
}

describe("connections of one node", () => {
  for (const poolSize of [3, 10]) {
    it(`a worker with poolSize ${poolSize} and concurrency 20 holds at most ${poolSize} + 1 (LISTEN) server connections`, async () => {
      const db = await testDatabase(String(poolSize));
      const name = `durable-conn-${db.schema}`;
      const count = async () => (await db.pool.query(`select count(*)::int as n from pg_stat_activity where application_name = $1`, [name])).rows[0].n as number;
      const d = await db.start({ database: { connectionString: db.url, application_name: name }, poolSize, queues: { ad_hoc_worker: 20 } });
      const work = (async () => {
        const handles = await d.asyncMany(Array.from({ length: 400 }, (_, i) => [tasks.progressThenReturn, {}, { meta: { i } }] as [any, any, any]));
        await d.awaitAll(handles, { timeout: "2m" });
      })();
      const peak = await peakWhile(count, work);
      expect(peak).toBeLessThanOrEqual(poolSize + 1);
      expect(peak).toBeGreaterThanOrEqual(2);
      console.log(`[connections] poolSize ${poolSize}, concurrency 20, 400 jobs: peak ${peak} server connections (pool + LISTEN)`);
    });
  }

  it("an API node (run: false) holds its pool and one LISTEN connection; notifications off, the pool alone", async () => {
    const db = await testDatabase();
    const listening = `durable-api-${db.schema}`;
    const polling = `durable-poll-${db.schema}`;
    const count = async (name: string) => (await db.pool.query(`select count(*)::int as n from pg_stat_activity where application_name = $1`, [name])).rows[0].n as number;
    const api = await db.start({ database: { connectionString: db.url, application_name: listening }, run: false, poolSize: 4 });
    await db.start({ database: { connectionString: db.url, application_name: polling }, run: false, poolSize: 4, notifications: false });
    await Promise.all(Array.from({ length: 30 }, (_, i) => api.async(tasks.echo, { value: i })));
    expect(await count(listening)).toBeLessThanOrEqual(5);
    await eventually("the idle pool to keep its LISTEN connection", async () => (await count(listening)) >= 1);
    expect(await count(polling)).toBeLessThanOrEqual(4);
  });
});
