import type { AsyncOptions } from "./config/options.js";
import type { StartOptions } from "./config/start.js";
import type { JobContext } from "./context.js";
import type { AwaitOptions } from "./await/index.js";
import type { JobHandle } from "./enqueue/index.js";
import type { DurableEvents, EventName } from "./events/index.js";
import { DurableInstance } from "./instance.js";
import { markCallBoundary } from "./tasks/call-site.js";
import { loadDeclaredCron } from "./cron/declared.js";
import type { CronOptions } from "./cron/index.js";
import type { JobsApi, QueueControls } from "./control/index.js";

// The process-wide `durable` object. Transformed call sites call it as
// durable.async(stub, captures, options); the signatures below are what the
// user writes before the transformer, so the types read naturally.

let current: DurableInstance | null = null;

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

/** The default instance; created on first use with env defaults and `run: false` if start() was not called. */
export function defaultInstance(): DurableInstance {
  if (!current) {
    current = new DurableInstance({ run: false, handleSignals: false });
    lazy = current;
  }
  return current;
}

/** The instance made implicitly by a call before durable.start(); start() replaces it. */
let lazy: DurableInstance | null = null;

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
  awaitAll<T extends readonly JobHandle<any>[]>(jobs: T, options?: AwaitOptions): Promise<{ [K in keyof T]: T[K] extends JobHandle<infer R> ? R : never }>;
  /** Inside a running closure: attempt, signal, jobId, progress(). */
  context(): JobContext;
  on<E extends EventName>(event: E, listener: (payload: DurableEvents[E]) => void): () => void;
  /** Graceful stop: waits for inserts in flight and running jobs (within the grace period). */
  stop(options?: { grace?: number }): Promise<void>;
  /** Run `fn` on a cron schedule (5 fields, 6 with seconds first, or "@daily"); one job per tick across all nodes. */
  cron(expression: string, fn: () => unknown, options?: CronOptions): { name: string; nextRun(): Date | null };
  /** Pause, resume, scale and configure (rate limit, global concurrency, retention) queues, cluster-wide. */
  readonly queues: QueueControls;
  /** List, stream, count, export, cancel, retry and delete jobs by filter. */
  readonly jobs: JobsApi;
  /** The underlying instance (pool, schema, runner), for advanced use. */
  readonly instance: DurableInstance;
}

export const durable: Durable = {
  async start(options: StartOptions = {}) {
    if (testingTarget()) return;
    // Module-level durable.cron() calls land on the implicit instance before start(); the new one adopts them.
    const cronSource = current;
    if (current && current === lazy) {
      // A call before start() connected a client-only instance; start() takes over.
      lazy = null;
      const previous = current;
      current = null;
      await previous.stop();
    }
    if (current?.started) {
      throw new (await import("./errors.js")).ConfigError("durable.start() was already called in this process. Call durable.stop() first to restart with other options.");
    }
    const instance = new DurableInstance(options);
    current = instance;
    if (cronSource) instance.adoptCron(cronSource);
    await instance.start();
    // Their `durable.cron(...)` calls land on this instance, now started.
    if (instance.runner) {
      await loadDeclaredCron((file, error) => {
        const e = error instanceof Error ? error : new Error(String(error));
        instance.events.emit("node:error", { error: e, during: `loading the cron entries of ${file}` });
        instance.config.logger.error(`durable: loading the cron entries of ${file} failed`, { error: e.message });
      });
    }
  },
  async(fn: any, captures?: any, options?: any) {
    return (testingTarget() ?? defaultInstance()).async(fn, captures, options);
  },
  bulk(fn: () => unknown) {
    return (testingTarget() ?? defaultInstance()).bulk(fn);
  },
  run(fn: any, captures?: any, options?: any) {
    return (testingTarget() ?? defaultInstance()).run(fn, captures, options) as any;
  },
  await(job: any, options?: AwaitOptions) {
    return (testingTarget() ?? defaultInstance()).await(job, options) as any;
  },
  awaitAll(jobs: any, options?: AwaitOptions) {
    const testing = testingTarget();
    if (testing) return Promise.all((jobs as unknown[]).map((job) => testing.await(job, options))) as any;
    return defaultInstance().awaitAll(jobs, options) as any;
  },
  context() {
    return defaultInstance().context();
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
  on(event, listener) {
    return defaultInstance().on(event, listener);
  },
  async stop(options) {
    if (testingTarget()) return;
    const instance = current;
    current = null;
    await instance?.stop(options);
  },
  get instance() {
    return defaultInstance();
  },
} as Durable;

markCallBoundary(durable.async, durable.run, durable.cron);
