import { AsyncLocalStorage } from "node:async_hooks";
import { DurableError } from "./errors.js";

export type ProgressUpdate = number | { done: number; total: number; message?: string };

/** What a running closure can read through `durable.context()`. */
export interface JobContext {
  jobId: string;
  attempt: number;
  maxAttempts: number;
  queue: string;
  task: string;
  meta: Record<string, unknown>;
  /** Aborts on timeout, cancellation or shutdown. */
  signal: AbortSignal;
  /** Persists progress (throttled), shown by the dashboard and `durable jobs show`. */
  progress(update: ProgressUpdate): Promise<void>;
}

// Shared through globalThis: a bundle or a monorepo can load two copies of this
// package, and a closure calling the other copy's durable.context() must still
// see the job it runs in.
const STORAGE_KEY = Symbol.for("durable-async.context");
export const jobContextStorage: AsyncLocalStorage<JobContext> = ((globalThis as any)[STORAGE_KEY] ??= new AsyncLocalStorage<JobContext>());

export function currentContext(): JobContext {
  const context = jobContextStorage.getStore();
  if (!context) {
    throw new DurableError("DURABLE_NO_CONTEXT", "durable.context() was called outside a running job. Call it inside the closure passed to durable.async().");
  }
  return context;
}
