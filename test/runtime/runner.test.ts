import { describe, expect, it } from "vitest";
import { nextEvent, testDatabase, eventually } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { __durableModules } from "../../src/tasks/registry.js";
import { AwaitTimeoutError, JobCancelledError, JobFailedError } from "../../src/errors.js";

const row = async (db: Awaited<ReturnType<typeof testDatabase>>, id: string) =>
  (await db.pool.query(`select * from ${db.q}.jobs where id = $1`, [id])).rows[0];

describe("runner", () => {
  it("retries with backoff, records every error, then succeeds", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(tasks.failUntil, { okAt: 3 }, { backoff: { base: 10, jitter: false } });
    expect(await d.await(job, { timeout: "20s" })).toBe(3);
    const r = await row(db, job.id);
    expect(r.state).toBe("completed");
    expect(r.attempt).toBe(3);
    expect(r.errors).toHaveLength(2);
    expect(r.errors[0]).toMatchObject({ attempt: 1, message: "boom on attempt 1", name: "Error" });
    expect(r.errors[0].stack).toContain("tasks.mjs");
    expect(Date.parse(r.errors[0].at)).not.toBeNaN();
  });

  it("discards once attempts are used up, and await rejects with the last error", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(tasks.fail, { message: "always" }, { maxAttempts: 2, backoff: { type: "fixed", delay: 10 } });
    const error = (await d.await(job, { timeout: "20s" }).catch((e: unknown) => e)) as JobFailedError;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.lastError).toMatchObject({ attempt: 2, message: "always" });
    const r = await row(db, job.id);
    expect(r).toMatchObject({ state: "discarded", attempt: 2 });
    expect(r.discarded_at).not.toBeNull();
  });

  it("Discard ends the job at once; Cancel cancels it", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const discarded = await d.async(tasks.discard, {}, { maxAttempts: 5 });
    const cancelled = await d.async(tasks.cancel, {}, { maxAttempts: 5 });
    await expect(d.await(discarded, { timeout: "10s" })).rejects.toBeInstanceOf(JobFailedError);
    await expect(d.await(cancelled, { timeout: "10s" })).rejects.toBeInstanceOf(JobCancelledError);
    expect(await row(db, discarded.id)).toMatchObject({ state: "discarded", attempt: 1 });
    expect(await row(db, cancelled.id)).toMatchObject({ state: "cancelled", attempt: 1 });
  });

  it("Snooze re-schedules without spending an attempt", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(tasks.snoozeOnce, {}, { maxAttempts: 1 });
    expect(await d.await(job, { timeout: "10s" })).toBe(1);
    expect(await row(db, job.id)).toMatchObject({ state: "completed", attempt: 1 });
  });

  it("a timeout aborts the context signal and fails the attempt with a clear error", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(tasks.waitForAbort, {}, { timeout: 100, maxAttempts: 1 });
    const error = (await d.await(job, { timeout: "10s" }).catch((e: unknown) => e)) as JobFailedError;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.lastError?.code).toBe("DURABLE_JOB_TIMEOUT");
    expect(error.lastError?.message).toMatch(/timeout of 100ms/);
  });

  it("exposes the job context inside the closure", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(tasks.context, {}, { meta: { orgId: 7 } });
    expect(await d.await(job)).toEqual({ jobId: job.id, attempt: 1, queue: "ad_hoc_worker", task: "test#context", meta: { orgId: 7 }, aborted: false });
  });

  it("rejects a result over the size cap, naming the cap", async () => {
    const db = await testDatabase();
    const d = await db.start({ maxResultBytes: 1000 });
    const job = await d.async(tasks.big, { bytes: 5000 }, { maxAttempts: 1 });
    const error = (await d.await(job).catch((e: unknown) => e)) as JobFailedError;
    expect(error.lastError?.code).toBe("DURABLE_RESULT_TOO_LARGE");
    expect(error.lastError?.message).toMatch(/over the cap of 1000 bytes/);
  });

  it("fails an attempt whose result cannot be serialized instead of storing a lie", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(tasks.returnsFunction, {}, { maxAttempts: 1 });
    const error = (await d.await(job).catch((e: unknown) => e)) as JobFailedError;
    expect(error.lastError?.code).toBe("DURABLE_NOT_SERIALIZABLE");
    expect(error.lastError?.message).toMatch(/^result is a function/);
  });

  it("round-trips superjson types through captures and results", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const value = { at: new Date("2026-01-02T03:04:05Z"), ids: new Set([1, 2]), map: new Map([["a", 1n]]), re: /x+/g, url: new URL("https://example.com/a"), nothing: undefined };
    const job = await d.async(tasks.echo, { value });
    expect(await d.await(job)).toEqual(value);
  });

  it("runs higher priority first within a queue", async () => {
    const db = await testDatabase();
    const setup = await db.start({ run: false });
    const low = await setup.asyncMany([[tasks.record, { n: 9 }, { priority: 9 }], [tasks.record, { n: 5 }, { priority: 5 }], [tasks.record, { n: 0 }, { priority: 0 }]]);
    const d = await db.start({ queues: { ad_hoc_worker: 1 } });
    await d.awaitAll(low, { timeout: "10s" });
    const { rows } = await db.pool.query(`select (result->>'json')::int as n from ${db.q}.jobs order by attempted_at, id`);
    expect(rows.map((r) => r.n)).toEqual([0, 5, 9]);
  });

  it("starts a scheduled job within a second of being due", async () => {
    const db = await testDatabase();
    const d = await db.start({ pollInterval: 1000 });
    const job = await d.async(tasks.echo, { value: 1 }, { delay: 500 });
    expect(job.state).toBe("scheduled");
    await d.await(job, { timeout: "10s" });
    const r = await row(db, job.id);
    const late = r.attempted_at.getTime() - r.run_at.getTime();
    expect(late).toBeLessThan(1000);
  });

  it("await times out with a typed error and the job keeps running", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(tasks.sleep, { ms: 800 });
    const error = (await d.await(job, { timeout: 100 }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(AwaitTimeoutError);
    expect(error.message).toMatch(/keeps running/);
    expect(await d.await(job, { timeout: "10s" })).toBe(800);
  });

  it("emits typed start, stop and error events", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const stopped = nextEvent<any>((l) => d.on("job:stop", l));
    const failed = nextEvent<any>((l) => d.on("job:error", l));
    await d.async(tasks.add, { a: 1, b: 1 });
    await d.async(tasks.fail, { message: "x" }, { maxAttempts: 1 });
    expect((await stopped).job).toMatchObject({ task: "test#add", queue: "ad_hoc_worker", attempt: 1 });
    expect(await failed).toMatchObject({ state: "discarded", job: { task: "test#fail" } });
  });

  it("persists throttled progress", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(tasks.progress, {});
    await d.await(job, { timeout: "10s" });
    const r = await eventually("progress written", async () => (await row(db, job.id)).progress);
    expect(r).toMatchObject({ done: 4, total: 4, fraction: 1, message: "row 4" });
  });

  it("keeps the last progress update of a job that finishes inside the throttle window", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(tasks.progressThenReturn, {});
    await d.await(job, { timeout: "10s" });
    expect((await row(db, job.id)).progress).toMatchObject({ done: 4, total: 4, fraction: 1 });
  });

  it("works through polling alone when notifications are off", async () => {
    const db = await testDatabase();
    const d = await db.start({ notifications: false, pollInterval: 100 });
    const jobs = await Promise.all([1, 2, 3].map((n) => d.async(tasks.add, { a: n, b: n })));
    expect(await d.awaitAll(jobs, { timeout: "10s" })).toEqual([2, 4, 6]);
  });

  it("graceful stop lets running jobs finish", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const started = nextEvent<any>((l) => d.on("job:start", l));
    const job = await d.async(tasks.sleep, { ms: 300 });
    await started;
    await d.stop({ grace: 5000 });
    expect(await row(db, job.id)).toMatchObject({ state: "completed" });
  });

  it("graceful stop past the grace period hands the job back with its attempt counted (its last: discarded, never run twice)", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const started = nextEvent<any>((l) => d.on("job:start", l));
    const job = await d.async(tasks.waitForAbort, {}, { maxAttempts: 1 });
    await started;
    await d.stop({ grace: 50 });
    expect(await row(db, job.id)).toMatchObject({ state: "discarded", attempt: 1, node_id: null });
    const retried = await db.start();
    const again = await retried.async(tasks.waitForAbort, {}, { maxAttempts: 2 });
    await eventually("it runs", async () => (await row(db, again.id)).state === "executing" && retried.runner!.runningCount === 1);
    await retried.stop({ grace: 50 });
    expect(await row(db, again.id)).toMatchObject({ state: "available", attempt: 1, node_id: null });
  });

  it("a capture of a class this worker has not registered with superjson is retried with a message saying where to register it", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const job = await api.async(tasks.echo, { value: { cents: 1234 } }, { maxAttempts: 3, backoff: { type: "fixed", delay: "1h" } });
    // As an enqueuer that registered Money would have stored it.
    await db.pool.query(`update ${db.q}.jobs set captures = $2::json where id = $1`, [job.id, JSON.stringify({ json: { value: { cents: 1234 } }, meta: { values: { value: [["class", "Money"]] } } })]);
    await db.start();
    await eventually("the attempt failed", async () => (await row(db, job.id)).state === "retryable");
    const { errors } = await row(db, job.id);
    expect(errors.at(-1)).toMatchObject({ code: "DURABLE_UNREGISTERED_CLASS", message: expect.stringMatching(/class "Money".*SuperJSON\.registerClass\(Money\) must run in the worker too/) });
  });

  it("a task whose module fails to load on this node is retried with the load error, not discarded", async () => {
    const db = await testDatabase();
    const meta = { id: "src/alias.ts#broken#0", hash: "h-broken", caller: { file: "src/alias.ts", fn: "broken", line: 3, column: 10 }, source: "() => x", captures: ["value"], kind: "async" as const };
    __durableModules([{ tasks: [meta], load: () => Promise.reject(new Error("Cannot find package '@lib/helpers'")) }]);
    const api = await db.start({ run: false });
    const job = await api.async(tasks.echo, { value: 1 }, { maxAttempts: 3, backoff: { type: "fixed", delay: "1h" } });
    await db.pool.query(`update ${db.q}.jobs set task_id = $2, body_hash = $3 where id = $1`, [job.id, meta.id, meta.hash]);
    await db.start();
    await eventually("the attempt failed", async () => (await row(db, job.id)).state === "retryable");
    expect((await row(db, job.id)).errors.at(-1)).toMatchObject({ code: "DURABLE_TASK_MODULE_LOAD", message: expect.stringMatching(/module failed to load \(Cannot find package '@lib\/helpers'\)/) });
  });
});
