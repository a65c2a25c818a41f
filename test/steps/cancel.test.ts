import { beforeEach, describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/steps-tasks.mjs";

type Db = Awaited<ReturnType<typeof testDatabase>>;
const stateOf = async (db: Db, task: string) => (await db.pool.query(`select id::text, state, errors from ${db.q}.jobs where task_id = $1`, [task])).rows;

describe("durable steps and cancellation", () => {
  beforeEach(() => tasks.reset());

  it("a cancelled child makes the parent's await reject with JobCancelledError on its replay", async () => {
    const db = await testDatabase();
    const d = await db.start({ queues: { ad_hoc_worker: 2 } });
    const parent = await d.async(tasks.awaitsBlocking, {});
    await eventually("the parent to wait for its running child", async () =>
      (await stateOf(db, "steps#blockingChild"))[0]?.state === "executing" && (await stateOf(db, "steps#awaitsBlocking"))[0]?.state === "waiting");
    expect(await d.jobs.cancel({ task: "steps#blockingChild" })).toBe(1);
    const child = (await stateOf(db, "steps#blockingChild"))[0];
    expect(await d.await(parent, { timeout: "20s" })).toEqual({ name: "JobCancelledError", code: "DURABLE_JOB_CANCELLED", jobId: child.id });
  });

  it("cancelling a parent cancels its unfinished children and theirs", async () => {
    const db = await testDatabase();
    const d = await db.start({ queues: { ad_hoc_worker: 3 } });
    const top = await d.async(tasks.grandparent, {});
    await eventually("the grandchild to run", async () => (await stateOf(db, "steps#blockingChild"))[0]?.state === "executing");
    expect(await d.jobs.cancel({ task: "steps#grandparent" })).toBe(1);
    const middle = (await stateOf(db, "steps#awaitsBlocking"))[0];
    const leaf = (await stateOf(db, "steps#blockingChild"))[0];
    expect(middle.state).toBe("cancelled");
    expect(leaf.state).toBe("cancelled");
    expect(leaf.errors.at(-1)).toMatchObject({ code: "DURABLE_CANCELLED", message: "cancelled with its parent job" });
    expect(await d.await(top, { timeout: "5s" }).catch((e: Error) => e.name)).toBe("JobCancelledError");
    // The running grandchild's node aborts it: its signal fires.
    await eventually("the grandchild's closure to stop", async () => d.runner!.runningCount === 0);
  });

  it("a closure that outlives its timeout cannot enqueue children or take steps: each attempt's late calls are refused", async () => {
    const db = await testDatabase();
    const d = await db.start({ queues: { ad_hoc_worker: 2 } });
    const job = await d.async(tasks.zombie, { ms: 400 }, { timeout: 100, maxAttempts: 2 });
    await expect(d.await(job, { timeout: "20s" })).rejects.toMatchObject({ code: "DURABLE_JOB_FAILED" });
    await eventually("both abandoned attempts made their late calls", () => tasks.effects.length === 4);
    expect(tasks.effects).toEqual(Array(4).fill("DURABLE_ATTEMPT_ENDED aborted=true"));
    const children = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where task_id = 'steps#child'`);
    expect(children.rows[0].n).toBe(0);
  });

  it("durable.await(job, { timeout }) inside a job times out: waiting in place, and after suspending (woken at the deadline)", async () => {
    const db = await testDatabase();
    const d = await db.start({ queues: { ad_hoc_worker: 2 }, stepWait: 1_000, heartbeatInterval: 200 });
    const inPlace = await d.async(tasks.timedAwait, { ms: 300 });
    expect(await d.await(inPlace, { timeout: "20s" })).toBe("DURABLE_AWAIT_TIMEOUT");
    const suspended = await d.async(tasks.timedAwait, { ms: 2_500 });
    await eventually("the parent suspends", async () => (await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [suspended.id])).rows[0].state === "waiting");
    expect(await d.await(suspended, { timeout: "20s" })).toBe("DURABLE_AWAIT_TIMEOUT");
    // Each timed out once: the replay that found the deadline passed did not wait again.
    expect(tasks.effects.filter((e) => e.startsWith("timed out"))).toHaveLength(2);
  });
});
