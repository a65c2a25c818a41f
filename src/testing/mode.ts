import { normalizeAsyncOptions, type NormalizedJobOptions } from "../config/options.js";
import { jobContextStorage } from "../context.js";
import { DEFAULT_NODE_TYPES } from "../contract/index.js";
import { describe } from "../config/duration.js";
import { setTestingTarget, type TestingTarget } from "../durable.js";
import type { JobHandle } from "../enqueue/index.js";
import { AwaitTimeoutError, DurableError, InvalidOptionError, JobCancelledError, JobFailedError, JobNotFoundError, UntransformedCallError } from "../errors.js";
import { DEFAULT_MAX_CAPTURE_BYTES, MAX_TIMER_MS } from "../config/limits.js";
import { serializeCaptures } from "../enqueue/index.js";
import { roundTrip, type SerializedValue } from "../serialize/values.js";
import { isTaskStub, type TaskStub } from "../tasks/registry.js";
import { callSiteFromStack, untransformedHint } from "../tasks/call-site.js";
import { uniqueKey } from "../unique/key.js";
import { rememberSerialized, runAttempt, type AttemptOutcome } from "./execute.js";
import { TestingSteps, type Deadline } from "./steps.js";
import { ACTIVE_TEST_STATES, nextId, type EnqueuedJob, type TestJobState } from "./store.js";

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

/** Consecutive snoozes after which an await in a testing mode stops running a job again (it would spin). */
export const SNOOZE_LIMIT = 100;
/** States in which a testing mode runs a job when it is awaited. */
const RUNNABLE: readonly TestJobState[] = ["available", "scheduled", "retryable"];

/** A call validated and serialized (what throws at the call has thrown), not yet recorded. */
interface PreparedCall {
  task: TaskStub;
  normalized: NormalizedJobOptions;
  serialized: SerializedValue;
  key: string | null;
}

/**
 * Stands in for the database while a testing mode is on. `inline` runs each
 * job that is due now to its outcome before durable.async() resolves
 * (retries and snoozes run again at once, without backoff); a job due later
 * (`delay`, `at`, `debounce`) waits, scheduled, until it is awaited or comes
 * due. `manual` only records, and drain()/runJob() run. Both apply
 * uniqueness (with `replace` and debounce), `after` dependencies and the
 * step journal as the real runtime does (src/unique, src/steps).
 */
export class TestingRuntime implements TestingTarget {
  readonly jobs: EnqueuedJob[] = [];
  private readonly nodeTypes: string[];
  /** Inline mode: the timers that run jobs due later when they come due. */
  private readonly timers = new Map<EnqueuedJob, ReturnType<typeof setTimeout>>();
  /** Jobs being run to their outcome: a second caller joins the first. */
  private readonly running = new Map<EnqueuedJob, Promise<void>>();
  /** What each job in flight waits for (job id → ids): its awaits, the children inline mode runs for it, its dependencies. */
  private readonly waitsOn = new Map<string, string[]>();
  /** Jobs an await stopped running because they kept snoozing. */
  private readonly spinning = new WeakSet<EnqueuedJob>();
  private disposed = false;

  constructor(readonly mode: TestingModeName, private readonly options: TestingModeOptions = {}) {
    this.nodeTypes = [...new Set([...DEFAULT_NODE_TYPES, ...(options.nodeTypes ?? [])])];
  }

  get maxResultBytes(): number {
    return this.options.maxResultBytes ?? 1_048_576;
  }

  /** Open durable.bulk() scopes; a call joins the innermost. */
  private readonly bulkScopes: Promise<JobHandle>[][] = [];

  /** Mirrors DurableInstance.async: validation and serialization throw synchronously, at the call. */
  async(stub: unknown, captures?: unknown, options?: unknown): Promise<JobHandle> {
    const { done } = this.enqueue(this.prepare("async", stub, captures, options));
    this.bulkScopes.at(-1)?.push(done);
    return done;
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

  /** One attempt of a recorded job, with this mode's limits and the job's step journal; then what its end wakes or cancels. */
  async attempt(job: EnqueuedJob): Promise<AttemptOutcome> {
    this.disarm(job);
    const outcome = await runAttempt(job, { maxResultBytes: this.maxResultBytes, scope: new TestingSteps(job, this) });
    if (outcome.state === "scheduled") this.arm(job);
    if (!ACTIVE_TEST_STATES.includes(job.state)) {
      job.finishedAt = new Date();
      await this.ended(job);
    }
    return outcome;
  }

  /**
   * durable.await(). Inline mode runs a job that has not ended (a job due
   * later, one that snoozed, one waiting for its `after` dependencies,
   * which run first) before it answers; so does an await inside a running
   * job in either mode, where a worker would suspend the parent until the
   * job ends.
   */
  async await(job: unknown): Promise<unknown> {
    const found = this.find(job);
    const context = jobContextStorage.getStore();
    if (this.mode === "inline" || context) await this.runAwaited(found, context?.jobId);
    return this.outcomeOf(found);
  }

  /**
   * An await inside a running job (a step of its journal): runs the awaited
   * job if it has not ended. With a deadline (a timed await), a job that
   * ended after it, or has not ended by then, is an AwaitTimeoutError, as
   * on a worker; the awaited job keeps running.
   */
  async awaitInJob(id: string, deadline: Deadline | null = null): Promise<unknown> {
    const found = this.find(id);
    const awaiter = jobContextStorage.getStore()?.jobId;
    if (!deadline) {
      await this.runAwaited(found, awaiter);
      return this.outcomeOf(found);
    }
    const late = () => (found.finishedAt ? found.finishedAt.getTime() > deadline.at.getTime() : Date.now() >= deadline.at.getTime());
    if (late()) throw new AwaitTimeoutError(found.id, deadline.timeoutMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), Math.min(deadline.at.getTime() - Date.now(), MAX_TIMER_MS))));
    const run = this.runAwaited(found, awaiter);
    run.catch(() => undefined);
    try {
      if ((await Promise.race([run, timedOut])) === "timeout" || late() || ACTIVE_TEST_STATES.includes(found.state)) throw new AwaitTimeoutError(found.id, deadline.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    return this.outcomeOf(found);
  }

  /** Runs (or joins the run of) a job that has not ended, for an await made by `awaiter` (a job id) or by plain code. */
  private async runAwaited(job: EnqueuedJob, awaiter: string | undefined): Promise<void> {
    if (!this.running.has(job) && !ACTIVE_TEST_STATES.includes(job.state)) return;
    if (awaiter !== undefined && this.blocks(job.id, awaiter)) {
      throw new DurableError(
        "DURABLE_TESTING_NOT_RUN",
        `job #${job.id} (${job.task}) is ${job.state} and has no result yet, and job #${awaiter}, which awaits it, is what it waits for (itself, or through the jobs it runs, awaits or runs after): ` +
          `the await would never end. A job cannot await itself, nor a job waiting for it; in ${this.mode} mode a job's durable.async() also waits for the child it runs, so a child cannot await the job that created it (a worker would run them side by side).`,
      );
    }
    // Running outside any await (drain() or runJob() is running it): nothing to join; the caller gets the state.
    if (!this.running.has(job) && job.state === "executing") return;
    await this.blockedWhile(awaiter, job, () => this.runToOutcome(job));
  }

  /** True when job `from` cannot end before job `to` does: it is `to`, or waits for it through runs and awaits in flight. */
  private blocks(from: string, to: string): boolean {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (id === to) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(this.waitsOn.get(id) ?? []));
    }
    return false;
  }

  /** Records that job `from` waits for `to` while `work` runs (so an await back the other way is refused, not hung). */
  private async blockedWhile<T>(from: string | undefined, to: EnqueuedJob, work: () => Promise<T>): Promise<T> {
    if (from === undefined) return work();
    const edges = this.waitsOn.get(from) ?? [];
    this.waitsOn.set(from, edges);
    edges.push(to.id);
    try {
      return await work();
    } finally {
      edges.splice(edges.indexOf(to.id), 1);
      if (edges.length === 0) this.waitsOn.delete(from);
    }
  }

  private outcomeOf(found: EnqueuedJob): unknown {
    if (found.state === "completed") return found.result;
    const last = found.errors.at(-1) ?? null;
    if (found.state === "discarded") throw new JobFailedError(found.id, last);
    if (found.state === "cancelled") throw new JobCancelledError(found.id, last);
    throw new DurableError("DURABLE_TESTING_NOT_RUN", `job #${found.id} (${found.task}) is ${found.state} and has no result yet. ${this.notRunReason(found)}`);
  }

  private notRunReason(job: EnqueuedJob): string {
    if (this.mode === "manual" && !jobContextStorage.getStore()) {
      const waiting = job.state === "waiting" ? ` It runs after job(s) ${job.waitingFor!.map((id) => `#${id}`).join(", ")}, which have not ended: drain() runs them first.` : "";
      return `In manual testing mode, run it first with drain("${job.queue}") or runJob(handle).${waiting}`;
    }
    const how = this.mode === "inline" ? "In inline mode an await runs the job (and the jobs it runs after) to its end" : "An await inside a running job runs the awaited job (and the jobs it runs after) to its end";
    if (this.spinning.has(job)) {
      return `${how}, and a snoozed job runs again at once, without waiting for its due time; this one snoozed ${SNOOZE_LIMIT} times in a row, so it was left scheduled for ${job.runAt?.toISOString()}. Test a job that snoozes until time passes in manual mode, one attempt at a time with runJob(handle).`;
    }
    if (job.state === "executing") return `${how}, but this one is running already, outside any await (drain() or runJob() is running it), so the await cannot wait for it: it may be waiting, directly or through other jobs, for the job that awaits it.`;
    if (job.state === "waiting") return `${how}, but it runs after job(s) ${job.waitingFor!.map((id) => `#${id}`).join(", ")}, which could not be run to their end.`;
    return `${how}; this one could not be run.`;
  }

  find(job: unknown): EnqueuedJob {
    const id = typeof job === "string" || typeof job === "number" ? String(job) : typeof job === "object" && job !== null ? String((job as JobHandle).id) : undefined;
    if (id === undefined) throw new InvalidOptionError("job", `expected a JobHandle or a job id, got ${describe(job)}.`);
    const found = this.jobs.find((j) => j.id === id);
    if (!found) throw new JobNotFoundError(id);
    return found;
  }

  handle(id: string): JobHandle | null {
    const found = this.jobs.find((j) => j.id === id);
    return found ? handleOf(found, false) : null;
  }

  /**
   * Runs attempts until the job is completed, discarded, cancelled, or
   * snoozed SNOOZE_LIMIT times in a row: retries and snoozes run again at
   * once. A waiting job's unfinished dependencies run first.
   */
  runToOutcome(job: EnqueuedJob): Promise<void> {
    let run = this.running.get(job);
    if (!run) {
      run = this.runLoop(job).finally(() => this.running.delete(job));
      this.running.set(job, run);
    }
    return run;
  }

  private async runLoop(job: EnqueuedJob): Promise<void> {
    this.spinning.delete(job);
    for (let snoozes = 0; ; ) {
      if (job.state === "waiting") {
        for (const id of job.waitingFor ?? []) {
          const dependency = this.jobs.find((j) => j.id === id);
          if (!dependency || !(this.running.has(dependency) || [...RUNNABLE, "waiting"].includes(dependency.state)) || this.blocks(dependency.id, job.id)) continue;
          await this.blockedWhile(job.id, dependency, () => this.runToOutcome(dependency));
        }
        // Still waiting: a dependency is running (it is what awaits this job) or could not end.
        if (job.state === "waiting") return;
      }
      if (!RUNNABLE.includes(job.state)) return;
      await this.attempt(job);
      if (job.state !== "scheduled") snoozes = 0;
      else if (++snoozes >= SNOOZE_LIMIT) {
        this.spinning.add(job);
        return;
      }
    }
  }

  /** Validates and serializes a call; everything that can throw at the call throws here. */
  prepare(method: "async" | "run", stub: unknown, captures: unknown, options: unknown): PreparedCall {
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
    if (normalized.client && jobContextStorage.getStore()) {
      throw new InvalidOptionError("client", `inside a running job, durable.${method}() records the child in the job's journal in a transaction of its own; drop \`client\` there, or enqueue with it outside the job.`);
    }
    const where = `durable.${task.kind}() at ${task.caller.file}:${task.caller.line}:${task.caller.column}`;
    // The real round trip: what cannot survive it fails the user's test here, as it would in production.
    const { serialized } = serializeCaptures(captures as Record<string, unknown>, where, (payload) => payload, this.options.maxCaptureBytes ?? DEFAULT_MAX_CAPTURE_BYTES);
    const key = normalized.unique ? uniqueKey({ task: task.id, queue: normalized.queue, captures: serialized, meta: normalized.meta }, normalized.unique, where) : null;
    return { task, normalized, serialized, key };
  }

  /** Records a prepared call (or finds the job it conflicts with); `done` resolves with its handle, after inline mode ran it. */
  enqueue(prepared: unknown): { job: EnqueuedJob; done: Promise<JobHandle> } {
    const { job, conflict } = this.insert(prepared as PreparedCall);
    const parent = jobContextStorage.getStore()?.jobId;
    if (this.mode === "inline" && job.state === "available" && !(parent !== undefined && this.blocks(job.id, parent))) {
      return { job, done: this.blockedWhile(parent, job, () => this.runToOutcome(job)).then(() => handleOf(job, conflict)) };
    }
    return { job, done: Promise.resolve(handleOf(job, conflict)) };
  }

  private insert({ task, normalized, serialized, key }: PreparedCall): { job: EnqueuedJob; conflict: boolean } {
    if (key && normalized.unique) {
      const { periodMs, states, replace } = normalized.unique;
      // The newest conflicting job, as the unique insert finds it.
      const existing = this.jobs.findLast((j) => j.uniqueKey === key && states.includes(j.state) && (periodMs === null || Date.now() - j.insertedAt.getTime() < periodMs));
      if (existing) {
        if (replace.length > 0 && (existing.state === "available" || existing.state === "scheduled")) this.replace(existing, { task, normalized, serialized, key }, replace);
        return { job: existing, conflict: true };
      }
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
      finishedAt: null,
      waitingFor: null,
      errors: [],
      progress: [],
      inTransaction: normalized.client !== undefined,
      stub: task,
      options: normalized,
      uniqueKey: key,
    };
    rememberSerialized(job, serialized);
    this.jobs.push(job);
    const dependencies = normalized.dependencies;
    if (dependencies) {
      // As recordDependencies: it waits while a dependency is unfinished; one that failed under "cancel" cancels it
      // (the sweep's work, at once here). Ids no recorded job has count as ended.
      const ids = dependencies.after;
      const failed = dependencies.afterFailure === "cancel" ? this.jobs.find((j) => ids.includes(j.id) && (j.state === "discarded" || j.state === "cancelled")) : undefined;
      if (failed) this.cancelForDependency(job, failed);
      else if (this.jobs.some((j) => ids.includes(j.id) && ACTIVE_TEST_STATES.includes(j.state))) {
        job.state = "waiting";
        job.waitingFor = ids;
      }
    }
    this.arm(job);
    return { job, conflict: false };
  }

  /** unique.replace (and debounce): the new call's values overwrite the chosen fields of a job that has not started (replaceFields). */
  private replace(job: EnqueuedJob, call: PreparedCall, replace: readonly string[]): void {
    const has = (field: string) => replace.includes(field);
    const { normalized } = call;
    if (has("scheduled_at")) {
      job.runAt = normalized.runAt ?? new Date();
      job.state = job.runAt.getTime() > Date.now() ? "scheduled" : "available";
    }
    if (has("meta")) job.meta = normalized.meta;
    if (has("priority")) job.priority = normalized.priority;
    if (has("tags")) job.tags = normalized.tags;
    if (has("max_attempts")) job.maxAttempts = Math.max(normalized.maxAttempts, job.attempt, 1);
    if (has("captures")) {
      job.captures = roundTrip(call.serialized);
      rememberSerialized(job, call.serialized);
      // The body hash comes along: the newest call's code runs.
      if (call.task.id === job.task) job.stub = call.task;
    }
    this.arm(job);
  }

  /** A job reached a final state: the jobs waiting to run after it are woken once none of theirs is unfinished, or cancelled. */
  private async ended(dependency: EnqueuedJob): Promise<void> {
    const failed = dependency.state === "discarded" || dependency.state === "cancelled";
    const woken: EnqueuedJob[] = [];
    const cancelled: EnqueuedJob[] = [];
    for (const job of this.jobs) {
      if (job.state !== "waiting" || !job.waitingFor?.includes(dependency.id)) continue;
      if (failed && job.options.dependencies?.afterFailure !== "run") {
        this.cancelForDependency(job, dependency);
        cancelled.push(job);
      } else if (!this.jobs.some((j) => job.waitingFor!.includes(j.id) && ACTIVE_TEST_STATES.includes(j.state))) {
        job.state = "available";
        job.runAt = new Date();
        job.waitingFor = null;
        woken.push(job);
      }
    }
    // A cancelled dependent is a failed dependency of its own dependents.
    for (const job of cancelled) await this.ended(job);
    // Inline mode runs what woke, unless a run of it is under way already (an await that ran its dependencies goes on with it).
    if (this.mode === "inline" && !this.disposed) for (const job of woken) if (!this.running.has(job)) await this.runToOutcome(job);
  }

  private cancelForDependency(job: EnqueuedJob, dependency: EnqueuedJob): void {
    this.disarm(job);
    job.state = "cancelled";
    job.finishedAt = new Date();
    job.waitingFor = null;
    job.errors.push({
      attempt: job.attempt,
      at: new Date().toISOString(),
      name: "DependencyFailedError",
      code: "DURABLE_DEPENDENCY_FAILED",
      message: `job ${dependency.id}, which this job runs after, was ${dependency.state}; this job was cancelled without running. Pass afterFailure: "run" to run it anyway.`,
    });
  }

  /** Inline mode: a scheduled job runs when it comes due (a timer of this process, unref'd), unless something ran it first. */
  private arm(job: EnqueuedJob): void {
    this.disarm(job);
    if (this.mode !== "inline" || this.disposed || job.state !== "scheduled") return;
    const ms = Math.max((job.runAt?.getTime() ?? 0) - Date.now(), 0);
    if (ms > MAX_TIMER_MS) return;
    const timer = setTimeout(() => {
      this.timers.delete(job);
      if (!this.disposed && job.state === "scheduled") void this.runToOutcome(job).catch(() => undefined);
    }, ms);
    timer.unref?.();
    this.timers.set(job, timer);
  }

  private disarm(job: EnqueuedJob): void {
    const timer = this.timers.get(job);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(job);
  }

  /** Forgets every recorded job, and the timers of those due later. */
  clear(): void {
    for (const job of [...this.timers.keys()]) this.disarm(job);
    this.jobs.length = 0;
  }

  /** The mode ended: nothing runs on its own any more. */
  dispose(): void {
    this.disposed = true;
    for (const job of [...this.timers.keys()]) this.disarm(job);
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
  active?.dispose();
  const runtime = new TestingRuntime(mode, options);
  active = runtime;
  setTestingTarget(runtime);
  return () => {
    if (active === runtime) stopTestingMode();
  };
}

export function stopTestingMode(): void {
  active?.dispose();
  active = undefined;
  setTestingTarget(undefined);
}

export function testingModeName(): TestingModeName | undefined {
  return active?.mode;
}
