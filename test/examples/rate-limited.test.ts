import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import { runExample } from "../support/examples.js";

describe("examples/rate-limited", { timeout: 180_000 }, () => {
  it("runs: a 429 pauses the queue, cancels the waiting calls, and the queue resumes on its own", async () => {
    const db = await testDatabase();
    const run = await runExample("rate-limited", { schema: db.schema, args: ["--pause", "3s"] });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("resumed on its own (paused: false)");
    const jobs = await db.pool.query(`select (meta->>'patientId')::int as patient, state, attempt from ${db.q}.jobs where queue = 'phone_calls' order by id`);
    expect(jobs.rows.map((r) => r.state)).toEqual(["completed", "completed", "completed", "completed", "cancelled", "cancelled", "cancelled", "cancelled"]);
    // The rate-limited call was snoozed, not failed: one attempt, and it ran after the pause.
    expect(jobs.rows[3]).toEqual({ patient: 4, state: "completed", attempt: 1 });
    const queue = await db.pool.query(`select * from ${db.q}.queues where name = 'phone_calls'`);
    expect(queue.rows).toHaveLength(1);
  });

  it("without --pause, the queue stays paused for 1h30m and says when it resumes", async () => {
    const db = await testDatabase();
    const started = Date.now();
    const run = await runExample("rate-limited", { schema: db.schema });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("it resumes by itself at that time");
    const { rows } = await db.pool.query(`select * from ${db.q}.queues where name = 'phone_calls'`);
    const until = rows[0].paused_until as Date;
    expect(until.getTime() - started).toBeGreaterThan(89 * 60_000);
    expect(until.getTime() - started).toBeLessThan(91 * 60_000);
    const counts = await db.pool.query(`select state, count(*)::int as n from ${db.q}.jobs group by 1 order by 1`);
    expect(counts.rows).toEqual([{ state: "cancelled", n: 4 }, { state: "completed", n: 3 }, { state: "scheduled", n: 1 }]);
  });
});
