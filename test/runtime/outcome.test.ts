import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as hostile from "../support/hostile-tasks.mjs";
import * as tasks from "../support/tasks.mjs";
import { decideOutcome, AbortReason, type AttemptFacts, type OutcomePolicy } from "../../src/runner/outcome.js";
import { Cancel, Discard, Snooze } from "../../src/outcomes.js";
import { JobFailedError, JobTimeoutError } from "../../src/errors.js";
import { isStorableText } from "../../src/serialize/text.js";

// The one outcome decision, case by case, then the hostile throws on a
// real worker: whatever a closure throws, the attempt is spent and recorded
// in a storable form, and the job retries or is discarded as configured.

const facts = (attempt = 1, maxAttempts = 3): AttemptFacts => ({ id: "1", task: "t", attempt, maxAttempts, backoff: { type: "fixed", baseMs: 1_000, maxMs: 1_000, jitter: false } });
const policy: OutcomePolicy = { maxResultBytes: 100, encode: (payload) => payload };

const KINDS = [
  "object message", "number stack", "throwing getters", "huge message", "circular cause", "null", "undefined", "symbol", "bigint",
  "hostile toString", "revoked proxy", "proxy that throws on every access", "NUL and lone surrogates in every field",
];

describe("decideOutcome", () => {
  it("a value completes with its stored text", () => {
    const outcome = decideOutcome({ kind: "returned", value: { b: 1, a: "x\u0000" } }, facts(), policy);
    expect(outcome).toMatchObject({ kind: "completed", result: '{"json":{"b":1,"a":"x\\u0000"}}' });
  });

  it("an error retries after the backoff while attempts remain, and is discarded on the last", () => {
    expect(decideOutcome({ kind: "threw", error: new Error("boom") }, facts(1, 2), policy)).toMatchObject({ kind: "retryable", delayMs: 1_000, error: { attempt: 1, message: "boom", name: "Error" } });
    expect(decideOutcome({ kind: "threw", error: new Error("boom") }, facts(2, 2), policy)).toMatchObject({ kind: "discarded", error: { attempt: 2, message: "boom" } });
  });

  it("Discard, Cancel and Snooze steer; a timeout is an ordinary failure; a shutdown records nothing", () => {
    expect(decideOutcome({ kind: "threw", error: new Discard("no") }, facts(), policy)).toMatchObject({ kind: "discarded", error: { message: "no" } });
    expect(decideOutcome({ kind: "threw", error: new Cancel("gone") }, facts(), policy)).toMatchObject({ kind: "cancelled", error: { message: "gone" } });
    expect(decideOutcome({ kind: "threw", error: new AbortReason("cancel", "elsewhere") }, facts(), policy)).toMatchObject({ kind: "cancelled" });
    expect(decideOutcome({ kind: "threw", error: new Snooze("5s") }, facts(), policy)).toMatchObject({ kind: "snoozed", delayMs: 5_000 });
    expect(decideOutcome({ kind: "threw", error: new JobTimeoutError(10) }, facts(), policy)).toMatchObject({ kind: "retryable", error: { code: "DURABLE_JOB_TIMEOUT" } });
    expect(decideOutcome({ kind: "threw", error: new AbortReason("shutdown", "bye") }, facts(), policy)).toEqual({ kind: "released" });
  });

  it("a job that cannot start is discarded at once, whatever its attempts", () => {
    expect(decideOutcome({ kind: "unrunnable", error: new Error("no stub") }, facts(1, 20), policy)).toMatchObject({ kind: "discarded", error: { message: "no stub" } });
  });

  it("a result that cannot be stored, or is over maxResultBytes, fails the attempt with a coded error", () => {
    // Unstorable results are not retried: another attempt would redo the work for the same value.
    expect(decideOutcome({ kind: "returned", value: () => 1 }, facts(), policy)).toMatchObject({ kind: "discarded", error: { code: "DURABLE_NOT_SERIALIZABLE", message: expect.stringMatching(/^result is a function/) } });
    expect(decideOutcome({ kind: "returned", value: "x".repeat(200) }, facts(), policy)).toMatchObject({ kind: "discarded", error: { code: "DURABLE_RESULT_TOO_LARGE", message: expect.stringMatching(/^The result of task t is/) } });
    expect(decideOutcome({ kind: "returned", value: "x".repeat(200) }, facts(3, 3), policy)).toMatchObject({ kind: "discarded" });
  });

  it.each(KINDS)("throwing %s is an ordinary failure, recorded in storable text", (kind) => {
    const outcome = decideOutcome({ kind: "threw", error: hostile.hostileThrown(kind) }, facts(1, 2), policy);
    expect(outcome.kind).toBe("retryable");
    const error = (outcome as unknown as { error: Record<string, unknown> }).error;
    expect(typeof error.message).toBe("string");
    for (const value of Object.values(error)) if (typeof value === "string") expect(isStorableText(value)).toBe(true);
    expect(JSON.stringify(error).length).toBeLessThan(40_000);
  });

  it("a fake Snooze whose delay throws snoozes for no time instead of breaking the runner", () => {
    expect(decideOutcome({ kind: "threw", error: hostile.hostileThrown("a fake Snooze with a hostile delay") }, facts(), policy)).toMatchObject({ kind: "snoozed", delayMs: 0 });
  });

  it("a circular cause chain is followed once around", () => {
    const outcome = decideOutcome({ kind: "threw", error: hostile.hostileThrown("circular cause") }, facts(), policy) as { error: { stack: string } };
    expect(outcome.error.stack).toMatch(/Caused by: Error: b\nCaused by: \(a cycle back to an error above\)$/);
  });
});

describe("hostile throws on a worker", () => {
  it("every one is recorded, spends its attempt, retries and then is discarded; the worker keeps running", async () => {
    const db = await testDatabase();
    const d = await db.start({ queues: { ad_hoc_worker: 4 } });
    const jobs = await d.asyncMany(KINDS.map((kind) => [hostile.throwsHostile, { kind }, { maxAttempts: 2, backoff: { type: "fixed", delay: 1 } }] as [any, any, any]));
    const errors = await Promise.all(jobs.map((job) => d.await(job, { timeout: "60s" }).catch((e: unknown) => e)));
    const problems = errors.map((e, i) => (e instanceof JobFailedError && e.lastError?.attempt === 2 ? null : `${KINDS[i]}: ${String(e)}`)).filter(Boolean);
    expect(problems).toEqual([]);
    const { rows } = await db.pool.query(`select attempt, jsonb_array_length(errors)::int as n from ${db.q}.jobs where id = any($1::bigint[])`, [jobs.map((j) => j.id)]);
    expect(rows.every((r) => r.attempt === 2 && r.n === 2)).toBe(true);
  });
});

describe("failures are logged", () => {
  it("each failed attempt and each discard at warn, with the job, task, caller and the error's first line", async () => {
    const db = await testDatabase();
    const lines: Array<[string, Record<string, unknown>]> = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (message: string, fields: Record<string, unknown> = {}) => void lines.push([message, fields]) };
    const d = await db.start({ logger });
    const job = await d.async(tasks.fail, { message: "first line\nsecond line" }, { maxAttempts: 2, backoff: { type: "fixed", delay: 1 } });
    await d.await(job, { timeout: "20s" }).catch(() => undefined);
    // The lines follow the write: an awaiter woken by its notification can get there first.
    const mine = await eventually("both lines", () => {
      const found = lines.filter(([, f]) => f.jobId === job.id);
      return found.length === 2 ? found : undefined;
    });
    expect(mine).toEqual([
      [`durable: job ${job.id} failed attempt 1 of 2; retrying in 1 ms: first line`, expect.objectContaining({ task: "test#fail", caller: "test/support/tasks.mjs:1:1", attempt: 1, maxAttempts: 2, error: "first line", retryInMs: 1 })],
      [`durable: job ${job.id} discarded after attempt 2: first line`, expect.objectContaining({ task: "test#fail", caller: "test/support/tasks.mjs:1:1", attempt: 2, error: "first line" })],
    ]);
  });
});
