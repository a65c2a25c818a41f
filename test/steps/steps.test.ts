import { beforeEach, describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/steps-tasks.mjs";
import { NondeterminismError } from "../../src/errors.js";

type Db = Awaited<ReturnType<typeof testDatabase>>;

const row = async (db: Db, id: string) => (await db.pool.query(`select * from ${db.q}.jobs where id = $1`, [id])).rows[0];
const count = (what: string) => tasks.effects.filter((e) => e === what).length;
/** One worker slot: a parent that held it while awaiting would deadlock its children. */
const oneSlot = { queues: { ad_hoc_worker: 1 } };

describe("durable steps", () => {
  beforeEach(() => {
    tasks.reset();
  });

  it("a parent awaiting three children on a one-slot queue suspends, frees the slot, and completes", async () => {
    const db = await testDatabase();
    const d = await db.start(oneSlot);
    const parent = await d.async(tasks.parentOfThree, { failOnce: false });
    expect(await d.await(parent, { timeout: "20s" })).toEqual([10, 20, 30]);
    for (const n of [1, 2, 3]) expect(count(`child ${n}`)).toBe(1);
    const r = await row(db, parent.id);
    // Suspensions gave their attempts back: one attempt, however many executions.
    expect(r).toMatchObject({ state: "completed", attempt: 1, waiting_for: null });
    const steps = (await db.pool.query(`select step_key, kind, child_id from ${db.q}.steps where parent_id = $1 order by position`, [parent.id])).rows;
    expect(steps.map((s) => s.step_key)).toEqual(["steps#child#0", "steps#child#1", "steps#child#2"]);
    expect(tasks.effects.filter((e) => e.startsWith("parent")).length).toBeGreaterThan(1);
  });

  it("stepWait: 0 suspends at the first unfinished await; the parent still completes with each child once", async () => {
    const db = await testDatabase();
    const d = await db.start({ ...oneSlot, stepWait: 0 });
    const parent = await d.async(tasks.parentOfThree, { failOnce: false });
    expect(await d.await(parent, { timeout: "20s" })).toEqual([10, 20, 30]);
    for (const n of [1, 2, 3]) expect(count(`child ${n}`)).toBe(1);
    expect((await row(db, parent.id)).attempt).toBe(1);
  });

  it("a parent that throws after its children finished retries with the same children: each side effect once", async () => {
    const db = await testDatabase();
    const d = await db.start(oneSlot);
    const parent = await d.async(tasks.parentOfThree, { failOnce: true }, { backoff: { type: "fixed", delay: 10 } });
    expect(await d.await(parent, { timeout: "20s" })).toEqual([10, 20, 30]);
    for (const n of [1, 2, 3]) expect(count(`child ${n}`)).toBe(1);
    const r = await row(db, parent.id);
    expect(r).toMatchObject({ state: "completed", attempt: 2 });
    expect(r.errors).toHaveLength(1);
    const children = (await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where task_id = 'steps#child'`)).rows[0].n;
    expect(children).toBe(3);
  });

  it("durable.run and durable.step in sequence: the inline step runs once, its value replays exactly", async () => {
    const db = await testDatabase();
    const d = await db.start(oneSlot);
    const job = await d.async(tasks.sequence, {});
    const result = (await d.await(job, { timeout: "20s" })) as { a: number; b: number; stamp: { at: Date; a: number } };
    expect(result).toEqual({ a: 10, b: 20, stamp: { at: new Date(0), a: 10 } });
    expect(result.stamp.at).toBeInstanceOf(Date);
    expect(count("inline step")).toBe(1);
    expect(count("child 1")).toBe(1);
    expect(count("child 2")).toBe(1);
  });

  it("durable.bulk inside a job journals its children like durable.async", async () => {
    const db = await testDatabase();
    const d = await db.start(oneSlot);
    const job = await d.async(tasks.bulkParent, {});
    expect(await d.await(job, { timeout: "20s" })).toEqual([40, 50]);
    expect(count("child 4")).toBe(1);
    expect(count("child 5")).toBe(1);
    const steps = (await db.pool.query(`select step_key from ${db.q}.steps where parent_id = $1 order by position`, [job.id])).rows;
    expect(steps.map((s) => s.step_key)).toEqual(["steps#child#0", "steps#child#1"]);
  });

  it("durable.sleep suspends the job: another job runs on the one slot meanwhile", async () => {
    const db = await testDatabase();
    const d = await db.start(oneSlot);
    const sleeper = await d.async(tasks.sleeper, { ms: 1_500 });
    await eventually("the sleeper to suspend", async () => (await row(db, sleeper.id)).state === "scheduled" && count("before sleep") === 1);
    const other = await d.async(tasks.child, { n: 9 });
    expect(await d.await(other, { timeout: "20s" })).toBe(90);
    // The other job finished while the sleeper had not woken yet.
    expect(count("after sleep")).toBe(0);
    expect(await d.await(sleeper, { timeout: "20s" })).toBe("woke");
    expect(count("before sleep")).toBe(1);
    expect(count("after sleep")).toBe(1);
    expect((await row(db, sleeper.id)).attempt).toBe(1);
  });

  it("a failed child rejects the parent's await with the child's error, on every replay", async () => {
    const db = await testDatabase();
    const d = await db.start(oneSlot);
    const job = await d.async(tasks.awaitsFailure, {});
    expect(await d.await(job, { timeout: "20s" })).toEqual({ name: "JobFailedError", code: "DURABLE_JOB_FAILED" });
    expect(count("failing 7")).toBe(1);
  });

  it("a replay that reaches another stub at a recorded position fails with NondeterminismError naming both call sites", async () => {
    const db = await testDatabase();
    const d = await db.start(oneSlot);
    const job = await d.async(tasks.diverges, {}, { maxAttempts: 5, backoff: { type: "fixed", delay: 10 } });
    const error = await d.await(job, { timeout: "20s" }).catch((e: unknown) => e);
    const r = await row(db, job.id);
    expect(r.state).toBe("discarded");
    const last = r.errors.at(-1);
    expect(last).toMatchObject({ name: "NondeterminismError", code: "DURABLE_NONDETERMINISM" });
    expect(last.message).toContain('task "steps#child"');
    expect(last.message).toContain('task "steps#failingChild"');
    expect(last.message).toContain("test/support/steps-tasks.mjs:1:1");
    expect(count("failing 1")).toBe(0);
    expect(error).toBeInstanceOf(Error);
    expect(NondeterminismError.name).toBe("NondeterminismError");
  });
});
