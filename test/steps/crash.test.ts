import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import { startWorkerProcess } from "../support/processes.js";
import * as tasks from "../support/steps-tasks.mjs";

describe("durable steps across a crash", () => {
  it("a worker killed with SIGKILL between steps: another worker resumes the job, no child is created twice", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const doomed = await startWorkerProcess(db.schema, { leaseTtlMs: 2_000 });
    const job = await api.async(tasks.crashBetweenSteps, {});
    const between = await doomed.message((m) => m?.betweenSteps === job.id);
    expect(between.pid).toBe(doomed.pid);
    const survivor = await startWorkerProcess(db.schema, { leaseTtlMs: 2_000 });
    doomed.child.kill("SIGKILL");
    const result = await api.await<{ sum: number; marked: string; finishedBy: number }>(job, { timeout: "60s" });
    // The inline step's value was recorded by the killed process and replayed, not run again.
    expect(result).toEqual({ sum: 60, marked: `marked by ${doomed.pid}`, finishedBy: survivor.pid });
    const children = await db.pool.query(`select (captures::jsonb)->'json'->>'n' as n, count(*)::int as rows from ${db.q}.jobs where task_id = 'steps#child' group by 1 order by 1`);
    expect(children.rows).toEqual([{ n: "1", rows: 1 }, { n: "2", rows: 1 }, { n: "3", rows: 1 }]);
    const steps = await db.pool.query(`select step_key from ${db.q}.steps where parent_id = $1 order by position`, [job.id]);
    expect(steps.rows.map((r) => r.step_key)).toEqual(["steps#child#0", "steps#child#1", "durable.step#0", "steps#child#2"]);
    const parent = (await db.pool.query(`select attempt, errors from ${db.q}.jobs where id = $1`, [job.id])).rows[0];
    expect(parent.attempt).toBe(2);
    expect(parent.errors[0]).toMatchObject({ attempt: 1, code: "DURABLE_NODE_LOST" });
  });
});
