import { normalizeAsyncOptions } from "../config/options.js";
import { jobContextStorage } from "../context.js";
import { DEFAULT_NODE_TYPES } from "../contract/index.js";
import { describe } from "../config/duration.js";
import { setTestingTarget, type TestingTarget } from "../durable.js";
import type { JobHandle } from "../enqueue/index.js";
import { DurableError, InvalidOptionError, JobCancelledError, JobFailedError, JobNotFoundError, UntransformedCallError } from "../errors.js";
import { DEFAULT_MAX_CAPTURE_BYTES } from "../config/limits.js";
import { serializeCaptures } from "../enqueue/index.js";
import { roundTrip } from "../serialize/values.js";
import { isTaskStub, type TaskStub } from "../tasks/registry.js";
import { callSiteFromStack, untransformedHint } from "../tasks/call-site.js";
import { uniqueKey } from "../unique/key.js";
import { rememberSerialized, runAttempt, type AttemptOutcome } from "./execute.js";
import { nextId, type EnqueuedJob } from "./store.js";

export type TestingModeName = "inline" | "manual";

export interface TestingModeOptions {
  /** Node types besides worker, api and datasync that the code under test uses. */
  nodeTypes?: string[];
  defaultMaxAttempts?: number;
  defaultTimeout?: number;
  /** As durable.start({ maxCaptureBytes }): captures over it throw at the call (default 4 MiB). */
  maxCaptureBytes?: number;
  /** As durable.start({ maxResultBytes }): a larger result fails the attempt (default 1 MiB). */
  maxResultBytes?: number;
}

/**
 * Stands in for the database while a testing mode is on. `inline` runs each
 * job to its outcome before durable.async() resolves (retries run at once,
 * without backoff); `manual` only records, and drain()/runJob() run.
 */
export class TestingRuntime implements TestingTarget {
  readonly jobs: EnqueuedJob[] = [];
  private readonly nodeTypes: string[];

  constructor(readonly mode: TestingModeName, private readonly options: TestingModeOptions = {}) {
    this.nodeTypes = [...new Set([...DEFAULT_NODE_TYPES, ...(options.nodeTypes ?? [])])];
  }

  /** Open durable.bulk() scopes; a call joins the innermost. */
  private readonly bulkScopes: Promise<JobHandle>[][] = [];

  /** Mirrors DurableInstance.async: validation and serialization throw synchronously, at the call. */
  async(stub: unknown, captures?: unknown, options?: unknown): Promise<JobHandle> {
    const job = this.record("async", stub, captures, options);
    let handle: Promise<JobHandle>;
    if (job.conflict) handle = Promise.resolve(handleOf(job.job, true));
    else if (this.mode === "manual") handle = Promise.resolve(handleOf(job.job, false));
    else handle = this.runToOutcome(job.job).then(() => handleOf(job.job, false));
    this.bulkScopes.at(-1)?.push(handle);
    return handle;
  }

  /** durable.bulk(): the calls made inside are recorded (or run) one by one; resolves with their handles. */
  async bulk(fn: () => unknown): Promise<JobHandle[]> {
    if (typeof fn !== "function") throw new InvalidOptionError("fn", `durable.bulk() expects a function that calls durable.async(), got ${describe(fn)}.`);
    const scope: Promise<JobHandle>[] = [];
    this.bulkScopes.push(scope);
    try {
      await fn();
    } finally {
      this.bulkScopes.splice(this.bulkScopes.lastIndexOf(scope), 1);
    }
    return Promise.all(scope);
  }

  /** Like async(): bad input throws at the call; the outcome arrives through the promise. */
  run(stub: unknown, captures?: unknown, options?: unknown): Promise<unknown> {
    if (typeof stub === "function") throw new UntransformedCallError("run", callSiteFromStack(), untransformedHint());
    return this.async(stub, captures, options).then((handle) => this.await(handle));
  }

  /** One attempt of a recorded job, with this mode's limits. */
  attempt(job: EnqueuedJob): Promise<AttemptOutcome> {
    return runAttempt(job, { maxResultBytes: this.options.maxResultBytes ?? 1_048_576 });
  }

  async await(job: unknown): Promise<unknown> {
    const found = this.find(job);
    // Inside a running job an await is a step: the awaited job runs now (a worker would suspend the parent until it ends).
    if (jobContextStorage.getStore() && ["available", "scheduled", "retryable"].includes(found.state)) await this.runToOutcome(found);
    if (found.state === "completed") return found.result;
    const last = found.errors.at(-1) ?? null;
    if (found.state === "discarded") throw new JobFailedError(found.id, last);
    if (found.state === "cancelled") throw new JobCancelledError(found.id, last);
    throw new DurableError(
      "DURABLE_TESTING_NOT_RUN",
      `job #${found.id} (${found.task}) is ${found.state} and has no result yet. In manual testing mode, run it first with drain("${found.queue}") or runJob(handle).`,
    );
  }

  find(job: unknown): EnqueuedJob {
    const id = typeof job === "string" || typeof job === "number" ? String(job) : typeof job === "object" && job !== null ? String((job as JobHandle).id) : undefined;
    if (id === undefined) throw new InvalidOptionError("job", `expected a JobHandle or a job id, got ${describe(job)}.`);
    const found = this.jobs.find((j) => j.id === id);
    if (!found) throw new JobNotFoundError(id);
    return found;
  }

  /** Runs attempts until the job is completed, discarded, cancelled or snoozed. */
  async runToOutcome(job: EnqueuedJob): Promise<void> {
    do await this.attempt(job);
    while (job.state === "retryable");
  }

  private record(method: string, stub: unknown, captures: unknown, options: unknown): { job: EnqueuedJob; conflict: boolean } {
    if (typeof stub === "function") throw new UntransformedCallError(method, callSiteFromStack(), untransformedHint());
    if (!isTaskStub(stub)) throw new InvalidOptionError("task", `durable.${method}() expects a closure like () => sendEmail(user.id), got ${describe(stub)}.`);
    if (typeof captures !== "object" || captures === null || Array.isArray(captures)) {
      throw new InvalidOptionError("captures", `expected the captures object the transformer passes, got ${describe(captures)}.`);
    }
    const task = stub as TaskStub;
    const normalized = normalizeAsyncOptions(options, {
      maxAttempts: this.options.defaultMaxAttempts ?? 20,
      timeoutMs: this.options.defaultTimeout ?? 15 * 60_000,
      nodeTypes: this.nodeTypes,
    });
    const where = `durable.${task.kind}() at ${task.caller.file}:${task.caller.line}:${task.caller.column}`;
    // The real round trip: what cannot survive it fails the user's test here, as it would in production.
    const { serialized } = serializeCaptures(captures as Record<string, unknown>, where, (payload) => payload, this.options.maxCaptureBytes ?? DEFAULT_MAX_CAPTURE_BYTES);
    const key = normalized.unique ? uniqueKey({ task: task.id, queue: normalized.queue, captures: serialized, meta: normalized.meta }, normalized.unique, where) : null;
    if (key && normalized.unique) {
      const { periodMs, states } = normalized.unique;
      const existing = this.jobs.find((j) => j.uniqueKey === key && states.includes(j.state) && (periodMs === null || Date.now() - j.insertedAt.getTime() < periodMs));
      if (existing) return { job: existing, conflict: true };
    }
    const future = normalized.runAt !== null && normalized.runAt.getTime() > Date.now();
    const job: EnqueuedJob = {
      id: nextId(),
      task: task.id,
      queue: normalized.queue,
      state: future ? "scheduled" : "available",
      attempt: 0,
      maxAttempts: normalized.maxAttempts,
      priority: normalized.priority,
      captures: roundTrip(serialized),
      meta: normalized.meta,
      tags: normalized.tags,
      runAt: normalized.runAt,
      insertedAt: new Date(),
      errors: [],
      progress: [],
      inTransaction: normalized.client !== undefined,
      stub: task,
      options: normalized,
      uniqueKey: key,
    };
    rememberSerialized(job, serialized);
    this.jobs.push(job);
    return { job, conflict: false };
  }
}

function handleOf(job: EnqueuedJob, conflict: boolean): JobHandle {
  return { id: job.id, task: job.task, queue: job.queue, state: job.state, conflict };
}

let active: TestingRuntime | undefined;

export function activeRuntime(caller: string): TestingRuntime {
  if (!active) throw new DurableError("DURABLE_TESTING_OFF", `${caller}() needs a testing mode. Call useTestingMode("manual") or useTestingMode("inline") first (for example in beforeEach).`);
  return active;
}

/**
 * Swaps the `durable` facade's enqueue and await path for an in-memory
 * runtime, until the returned function (or stopTestingMode) is called.
 * durable.start() and durable.stop() do nothing meanwhile.
 */
export function useTestingMode(mode: TestingModeName, options: TestingModeOptions = {}): () => void {
  if (mode !== "inline" && mode !== "manual") throw new InvalidOptionError("mode", `expected "inline" or "manual", got ${describe(mode)}.`);
  const runtime = new TestingRuntime(mode, options);
  active = runtime;
  setTestingTarget(runtime);
  return () => {
    if (active === runtime) stopTestingMode();
  };
}

export function stopTestingMode(): void {
  active = undefined;
  setTestingTarget(undefined);
}

export function testingModeName(): TestingModeName | undefined {
  return active?.mode;
}
