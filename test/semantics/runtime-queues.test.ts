import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import { startWorkerProcess } from "../support/processes.js";
import * as t from "../support/semantics-tasks.mjs";

/** The queues each live node row says it runs. */
async function nodeQueues(db: { pool: any; q: string }): Promise<Array<Record<string, number>>> {
  const { rows } = await db.pool.query(`select queues from ${db.q}.nodes where lease_expires_at > now() and queues ? 'ad_hoc_worker' order by started_at`);
  return rows.map((r: any) => r.queues);
}

describe("queues at run time", () => {
  it("add starts a queue on every running node of the type and on nodes started later; resize and remove reach them all, without a restart", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await Promise.all([startWorkerProcess(db.schema, { concurrency: 2 }), startWorkerProcess(db.schema, { concurrency: 2 })]);
    await api.queues.add("reports", { nodeType: "worker", concurrency: 3 });
    await eventually("both nodes to run the new queue", async () => {
      const queues = await nodeQueues(db);
      return queues.length === 2 && queues.every((q) => q.reports === 3);
    });
    const jobs = await api.asyncMany(Array.from({ length: 12 }, (_, i) => [t.hold, { ms: 30 + i }, { queue: "reports" }] as [any, any, any]));
    for (const job of jobs) await api.await(job, { timeout: "20s" });
    // A node started after the add runs the queue too: it is read from the database on start.
    await startWorkerProcess(db.schema, { concurrency: 2 });
    await eventually("the late node to run the queue", async () => (await nodeQueues(db)).filter((q) => q.reports === 3).length === 3);
    await api.queues.resize("reports", 1);
    expect((await api.queues.list()).find((q) => q.name === "reports")).toMatchObject({ nodeType: "worker", concurrency: 1 });
    await api.queues.remove("reports");
    await eventually("every node to stop the queue", async () => (await nodeQueues(db)).every((q) => !("reports" in q)));
    const after = await api.async(t.echo, { value: "after remove" }, { queue: "reports" });
    // Nothing runs it now; a worker's own queue still runs.
    const control = await api.async(t.echo, { value: "own queue" });
    expect(await api.await(control, { timeout: "20s" })).toBe("own queue");
    const { rows } = await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [after.id]);
    expect(rows[0].state).toBe("available");
    expect((await api.queues.list()).find((q) => q.name === "reports")).toMatchObject({ nodeType: null });
  });

  it("remove refuses a queue that was not added at run time, naming the fix", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await expect(api.queues.remove("ad_hoc_worker")).rejects.toThrow(/was not added with durable.queues.add\(\).*scale\("ad_hoc_worker", 0\)/);
    await expect(api.queues.add("x", { nodeType: "worker", concurrency: -1 })).rejects.toThrow(/concurrency/);
    await expect(api.queues.add("x", {} as any)).rejects.toThrow(/nodeType/);
  });
});
