import type { AsyncOptions } from "./config/options.js";
import type { StartOptions } from "./config/start.js";
import type { JobContext } from "./context.js";
import type { AwaitOptions } from "./await/index.js";
import type { JobHandle } from "./enqueue/index.js";
import type { DurableEvents, EventName } from "./events/index.js";
import { DurableInstance } from "./instance.js";
import { currentContext } from "./context.js";
import { ConfigError } from "./errors.js";
import { recordCallIfRecording } from "./config/job-semantics.js";
import { markCallBoundary } from "./tasks/call-site.js";
import { loadDeclaredCron } from "./cron/declared.js";
import type { CronOptions, ScheduleControls } from "./cron/index.js";
import type { JobsApi, QueueControls } from "./control/index.js";
import type { NodesApi } from "./nodes/index.js";
import { currentSteps, refuseAfterAttempt } from "./steps/current.js";
import { inlineStep, sleepOutsideJob } from "./steps/outside.js";

// The process-wide `durable` object. Transformed call sites call it as
// durable.async(stub, captures, options); the signatures below are what the
// user writes before the transformer, so the types read naturally.

/**
 * What `durable-async/testing` installs while a testing mode is on: the
 * facade's enqueue and await calls go to it instead of the database. A
 * globalThis slot, so a test importing another copy of the package (src vs
 * dist, a bundle) still swaps the one its code under test calls.
 */
export interface TestingTarget {
  async(stub: unknown, captures?: unknown, options?: unknown): Promise<JobHandle>;
  run(stub: unknown, captures?: unknown, options?: unknown): Promise<unknown>;
  await(job: unknown, options?: AwaitOptions): Promise<unknown>;
  bulk(fn: () => unknown): Promise<JobHandle[]>;
}
const TESTING_KEY = Symbol.for("durable-async.testing");
export function testingTarget(): TestingTarget | undefined {
  return (globalThis as any)[TESTING_KEY];
}
export function setTestingTarget(target: TestingTarget | undefined): void {
  (globalThis as any)[TESTING_KEY] = target;
}

/**
 * The facade's lifecycle, one instance at a time:
 *
 * - before start(): the first call that needs a database (enqueue, await,
 *   jobs, queues) makes a client-only instance from the environment
 *   (`run: false`); start() stops it and takes its cron entries over;
 * - start(options): the configured instance; a second start() without a
 *   stop() in between is an error;
 * - stop(): stops it (inserts in flight and running jobs finish first). The
 *   stopped instance stays current, so a later enqueue, await, jobs or queues
 *   call fails with DurableStoppedError (and an unawaited enqueue is logged
 *   and emitted like any failed insert) instead of quietly connecting a fresh
 *   instance to the environment's database and schema;
 * - start() again: a new instance with the new options, keeping cron entries
 *   and event listeners.
 *
 * Listeners from durable.on() live here, so they survive the swaps above.
 */
let current: DurableInstance | null = null;
let lazy: DurableInstance | null = null;
let stopping: Promise<void> | null = null;
const listeners = new Set<{ event: EventName; listener: (payload: any) => void; off: () => void }>();

function adopt(instance: DurableInstance, previous: DurableInstance | null): DurableInstance {
  // Module-level durable.cron() calls land on whichever instance was current; the new one takes them over.
  if (previous) instance.adoptCron(previous);
  for (const entry of listeners) entry.off = instance.on(entry.event, entry.listener);
  return instance;
}

/** The instance facade calls go to: the current one, or a client-only one made from the environment before start(). */
export function defaultInstance(): DurableInstance {
  if (!current) current = lazy = adopt(new DurableInstance({ run: false, handleSignals: false }), null);
  return current;
}

export interface Durable {
  /** Connects, migrates and (unless `run: false`) starts executing jobs for this node's types. */
  start(options?: StartOptions): Promise<void>;
  /**
   * Enqueue a closure as a durable job. Returns its handle once the row is committed.
   *
   * Programming errors throw synchronously, at this call: an invalid option
   * (`InvalidOptionError`), a capture that cannot be serialized
   * (`NotSerializableError`, naming the path), captures over `maxCaptureBytes`
   * (`CaptureTooLargeError`), an untransformed call site. Database failures
   * reject the promise, and are logged and emitted (`job:insert-error`) even
   * when nobody awaits it.
   */
  async<T>(fn: () => T | Promise<T>, options?: AsyncOptions): Promise<JobHandle<Awaited<T>>>;
  /**
   * Insert every durable.async() made inside `fn` in one round trip; resolves with their handles.
   * A durable.async() call inside `fn` throws at that call as usual; the error then rejects bulk().
   */
  bulk(fn: () => unknown): Promise<JobHandle[]>;
  /** Enqueue and await the result. Throws at the call for programming errors, as durable.async() does. */
  run<T>(fn: () => T | Promise<T>, options?: AsyncOptions): Promise<Awaited<T>>;
  /** Wait for a job's recorded result, from any process. */
  await<T>(job: JobHandle<T> | string, options?: AwaitOptions): Promise<T>;
  /** Await many jobs; handles, ids, or the promises durable.async() returns. Inside a job, a step: see durable.step. */
  awaitAll<T extends readonly (JobHandle<any> | Promise<JobHandle<any>> | string)[]>(jobs: T, options?: AwaitOptions): Promise<{ [K in keyof T]: Awaited<T[K]> extends JobHandle<infer R> ? R : unknown }>;
  /**
   * Inside a running job: runs `fn` once and records its result in the job's
   * journal; every later execution of the job (retry, resume, rescue)
   * returns the recorded value instead of running it again. Outside a job
   * (and in the testing modes) it just runs `fn`.
   */
  step<T>(fn: () => T | Promise<T>, options?: { name?: string }): Promise<Awaited<T>>;
  /**
   * Inside a running job: a durable timer. A long sleep suspends the job
   * (its slot freed, no attempt spent) until it is due. Outside a job it
   * waits in place.
   */
  sleep(duration: string | number): Promise<void>;
  /** Inside a running closure: attempt, signal, jobId, progress(). */
  context(): JobContext;
  on<E extends EventName>(event: E, listener: (payload: DurableEvents[E]) => void): () => void;
  /** Graceful stop: waits for inserts in flight and running jobs (within the grace period). */
  stop(options?: { grace?: string | number }): Promise<void>;
  /** Run `fn` on a cron schedule (5 fields, 6 with seconds first, or "@daily"); one job per tick across all nodes. */
  cron(expression: string, fn: () => unknown, options?: CronOptions): { name: string; nextRun(): Date | null };
  /** Pause, resume, scale and configure (rate limit, global concurrency, retention) queues, cluster-wide. */
  readonly queues: QueueControls;
  /** List, stream, count, export, cancel, retry and delete jobs by filter. */
  readonly jobs: JobsApi;
  /** Cron entries as stored, with their next run: list, pause, resume, retime, cluster-wide. */
  readonly schedules: ScheduleControls;
  /** Live nodes by build, and draining a build before a deploy stops it. */
  readonly nodes: NodesApi;
  /** The underlying instance (pool, schema, runner), for advanced use. */
  readonly instance: DurableInstance;
}

export const durable: Durable = {
  async start(options: StartOptions = {}) {
    if (testingTarget()) return;
    await stopping;
    const previous = current;
    if (previous?.active && previous !== lazy) {
      throw new ConfigError("durable.start() was already called in this process. Call durable.stop() first to restart with other options.");
    }
    // A call before start() connected a client-only instance; start() takes over.
    if (previous && previous === lazy) await previous.stop();
    lazy = null;
    const instance = (current = adopt(new DurableInstance(options), previous));
    await instance.start();
    // Modules that declare cron entries are loaded now; their `durable.cron(...)` calls land on this instance, started.
    if (instance.runner) {
      await loadDeclaredCron((file, error) => {
        const e = error instanceof Error ? error : new Error(String(error));
        instance.events.emit("node:error", { error: e, during: `loading the cron entries of ${file}` });
        instance.config.logger.error(`durable: loading the cron entries of ${file} failed`, { error: e.message });
      });
    }
  },
  async(fn: any, captures?: any, options?: any) {
    // Inside an onDiscard hook function (config/job-semantics.ts): recorded, whatever the mode.
    const recorded = recordCallIfRecording([fn, captures, options]);
    if (recorded) return recorded;
    refuseAfterAttempt("durable.async()");
    return (currentSteps() ?? testingTarget() ?? defaultInstance()).async(fn, captures, options);
  },
  bulk(fn: () => unknown) {
    refuseAfterAttempt("durable.bulk()");
    return (currentSteps() ?? testingTarget() ?? defaultInstance()).bulk(fn);
  },
  run(fn: any, captures?: any, options?: any) {
    refuseAfterAttempt("durable.run()");
    return (currentSteps() ?? testingTarget() ?? defaultInstance()).run(fn, captures, options) as any;
  },
  await(job: any, options?: AwaitOptions) {
    const steps = currentSteps();
    if (steps) return steps.await(job, options) as any;
    return Promise.resolve(job).then((handle) => (testingTarget() ?? defaultInstance()).await(handle, options)) as any;
  },
  awaitAll(jobs: any, options?: AwaitOptions) {
    const steps = currentSteps();
    if (steps) return steps.awaitAll(jobs, options) as any;
    const testing = testingTarget();
    if (!testing) return Promise.all(Array.isArray(jobs) ? jobs : [jobs]).then((handles) => defaultInstance().awaitAll(Array.isArray(jobs) ? handles : jobs, options)) as any;
    return Promise.all((jobs as unknown[]).map((job) => Promise.resolve(job).then((handle) => testing.await(handle, options)))) as any;
  },
  step(fn: any, options?: { name?: string }) {
    refuseAfterAttempt("durable.step()");
    return (currentSteps()?.step(fn, options) ?? inlineStep(fn)) as any;
  },
  sleep(duration: string | number) {
    return currentSteps()?.sleep(duration) ?? sleepOutsideJob(duration);
  },
  context() {
    return currentContext();
  },
  cron(expression: string, stub: any, captures?: any, options?: any) {
    return defaultInstance().cron(expression, stub, captures, options);
  },
  get queues() {
    return defaultInstance().queues;
  },
  get jobs() {
    return defaultInstance().jobs;
  },
  get schedules() {
    return defaultInstance().schedules;
  },
  get nodes() {
    return defaultInstance().nodes;
  },
  on(event, listener) {
    const entry = { event, listener, off: current ? current.on(event, listener) : () => undefined };
    listeners.add(entry);
    return () => {
      listeners.delete(entry);
      entry.off();
    };
  },
  async stop(options) {
    if (testingTarget()) return;
    // The instance stays current: calls after this fail with DURABLE_STOPPED instead of reconnecting elsewhere.
    const instance = current;
    lazy = null;
    stopping = (async () => {
      await stopping;
      await instance?.stop(options);
    })();
    await stopping;
  },
  get instance() {
    return defaultInstance();
  },
} as Durable;

markCallBoundary(durable.async, durable.run, durable.cron, durable.step, durable.sleep);
