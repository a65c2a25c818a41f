import { beforeEach, describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import * as steps from "../support/steps-tasks.mjs";
import { InvalidOptionError, JobCancelledError } from "../../src/errors.js";

type Db = Awaited<ReturnType<typeof testDatabase>>;
const row = async (db: Db, id: string) => (await db.pool.query(`select * from ${db.q}.jobs where id = $1`, [id])).rows[0];

describe("after: dependencies", () => {
  beforeEach(() => steps.reset());

  it("a job with after: [a, b] waits until both completed, then runs", async () => {
    const db = await testDatabase();
    const d = await db.start({ queues: { ad_hoc_worker: 3 } });
    const a = await d.async(tasks.sleep, { ms: 300 });
    const b = await d.async(tasks.sleep, { ms: 600 });
    const c = await d.async(steps.child, { n: 5 }, { after: [a, b] });
    expect(c.state).toBe("waiting");
    expect(await d.await(c, { timeout: "20s" })).toBe(50);
    const [ra, rb, rc] = await Promise.all([row(db, a.id), row(db, b.id), row(db, c.id)]);
    expect(rc.attempted_at.getTime()).toBeGreaterThanOrEqual(Math.max(ra.completed_at.getTime(), rb.completed_at.getTime()));
    expect(rc.attempt).toBe(1);
    const journal = await db.pool.query(`select kind, child_id::text from ${db.q}.steps where parent_id = $1 order by position desc`, [c.id]);
    expect(journal.rows).toEqual([{ kind: "after", child_id: a.id }, { kind: "after", child_id: b.id }]);
  });

  it("a discarded dependency cancels the dependent with a reason naming it; afterFailure: \"run\" runs it anyway", async () => {
    const db = await testDatabase();
    const d = await db.start({ queues: { ad_hoc_worker: 2 } });
    const a = await d.async(steps.failingChild, { n: 1 }, { maxAttempts: 1 });
    const cancelled = await d.async(steps.child, { n: 2 }, { after: [a] });
    const anyway = await d.async(steps.child, { n: 3 }, { after: [a.id], afterFailure: "run" });
    expect(await d.await(cancelled, { timeout: "20s" }).catch((e: unknown) => e)).toBeInstanceOf(JobCancelledError);
    expect(await d.await(anyway, { timeout: "20s" })).toBe(30);
    const last = (await row(db, cancelled.id)).errors.at(-1);
    expect(last).toMatchObject({ code: "DURABLE_DEPENDENCY_FAILED" });
    expect(last.message).toContain(`job ${a.id}`);
    expect(last.message).toContain("discarded");
    expect(steps.effects).not.toContain("child 2");
    // Inserted after the dependency failed: cancelled too, never run.
    const late = await d.async(steps.child, { n: 4 }, { after: [a] });
    expect(await d.await(late, { timeout: "20s" }).catch((e: unknown) => e)).toBeInstanceOf(JobCancelledError);
    expect(steps.effects).not.toContain("child 4");
  });

  it("refuses a promise or a non-id in after, naming the fix", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const pending = d.async(tasks.echo, { value: 1 });
    expect(() => d.async(tasks.echo, { value: 2 }, { after: [pending as any] })).toThrow(InvalidOptionError);
    expect(() => d.async(tasks.echo, { value: 2 }, { after: [pending as any] })).toThrow(/await durable.async\(\)/);
    expect(() => d.async(tasks.echo, { value: 2 }, { afterFailure: "run" })).toThrow(/applies only with `after/);
    await pending;
  });
});
