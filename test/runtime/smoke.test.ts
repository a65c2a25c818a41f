import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";

describe("end to end in one process", () => {
  it("enqueues a stub, runs it and records the result", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(tasks.add, { a: 2, b: 40 });
    expect(job).toMatchObject({ task: "test#add", queue: "ad_hoc_worker", state: "available", conflict: false });
    expect(await d.await(job, { timeout: "10s" })).toBe(42);
    const { rows } = await db.pool.query(`select state, attempt, result, completed_at, finished_at from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0]).toMatchObject({ state: "completed", attempt: 1 });
    expect(rows[0].finished_at).not.toBeNull();
  });
});
