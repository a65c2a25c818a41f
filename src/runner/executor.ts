import type pg from "pg";
import { jobContextStorage, type JobContext, type ProgressUpdate } from "../context.js";
import { BadJobRowError, DurableError, JobTimeoutError, ResultTooLargeError, type RecordedError } from "../errors.js";
import type { DurableEmitter, JobEventInfo, Logger } from "../events/index.js";
import { Cancel, Discard, Snooze } from "../outcomes.js";
import { deserialize, serializeChecked } from "../serialize/values.js";
import { resolveStub, taskMetadata } from "../tasks/registry.js";
import type { Acker } from "./acker.js";
import { backoffDelay } from "./backoff.js";
import { failJob, saveProgress, snoozeJob } from "./queries.js";
import type { BackoffPolicy } from "../config/options.js";
import { startAttemptSpan } from "../telemetry/index.js";

export interface ClaimedJob {
  id: string;
  task_id: string;
  body_hash: string;
  attempt: number;
  max_attempts: number;
  timeout_ms: number;
  backoff: BackoffPolicy | null;
  captures: unknown;
  meta: Record<string, unknown>;
  queue: string;
  progress: unknown;
  /** The enqueuer's trace context ({ traceparent }), linked from the attempt's span. */
  trace?: unknown;
}

export interface ExecutorDeps {
  pool: pg.Pool;
  q: string;
  doneChannel: string;
  acker: Acker;
  events: DurableEmitter;
  logger: Logger;
  maxResultBytes: number;
  decode: (stored: unknown) => unknown;
  encode: (value: unknown) => unknown;
}

/** Why a running job's signal was aborted from outside the closure. */
export class AbortReason extends DurableError {
  constructor(readonly kind: "cancel" | "shutdown", message: string) {
    super(kind === "cancel" ? "DURABLE_CANCELLED" : "DURABLE_SHUTDOWN", message);
  }
}

function info(job: ClaimedJob): JobEventInfo {
  const meta = taskMetadata(job.task_id);
  return { id: job.id, queue: job.queue, task: job.task_id, attempt: job.attempt, maxAttempts: job.max_attempts, meta: job.meta, caller: meta?.caller };
}

export function recordError(error: unknown, attempt: number): RecordedError {
  const e = error instanceof Error ? error : new Error(typeof error === "string" ? error : `non-error thrown: ${safeString(error)}`);
  return {
    attempt,
    at: new Date().toISOString(),
    message: e.message.slice(0, 10_000),
    name: e.name,
    stack: e.stack?.slice(0, 20_000),
    code: (e as any).code !== undefined ? String((e as any).code) : undefined,
  };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Writes progress at most every 500 ms per job, and always the last value once the window closes. */
function progressWriter(deps: ExecutorDeps, jobId: string) {
  let lastWrite = 0;
  let pending: ProgressUpdate | null = null;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();
  const write = (update: ProgressUpdate) => {
    lastWrite = Date.now();
    const value = typeof update === "number" ? { fraction: Math.max(0, Math.min(1, update)) } : { ...update, fraction: update.total > 0 ? update.done / update.total : 0 };
    const done = inFlight.then(() => deps.pool.query(saveProgress(deps.q), [jobId, JSON.stringify({ ...value, at: new Date().toISOString() })])).then(() => undefined, () => undefined);
    inFlight = done;
    return done;
  };
  return {
    progress: async (update: ProgressUpdate) => {
      if (typeof update !== "number" && (typeof update !== "object" || update === null || typeof update.done !== "number" || typeof update.total !== "number")) {
        throw new DurableError("DURABLE_INVALID_PROGRESS", "progress() takes a fraction from 0 to 1 or { done, total, message? }.");
      }
      if (Date.now() - lastWrite >= 500) return write(update);
      pending = update;
      timer ??= setTimeout(() => {
        timer = null;
        if (pending !== null) void write(pending);
        pending = null;
      }, 500);
    },
    /**
     * Writes the last throttled update and waits for writes in flight. Runs
     * before the outcome is recorded: once the row leaves the active
     * partition, a late progress write would find nothing to update.
     */
    flush: async () => {
      if (timer) clearTimeout(timer);
      timer = null;
      if (pending !== null) void write(pending);
      pending = null;
      await inFlight;
    },
  };
}

/** Runs one claimed job to an outcome and records it. Never throws. */
export async function executeJob(job: ClaimedJob, controller: AbortController, deps: ExecutorDeps, rescheduled: (dueMs: number) => void = () => undefined): Promise<void> {
  const started = performance.now();
  const event = info(job);
  deps.events.emit("job:start", { job: event });
  const span = startAttemptSpan(event, job.trace);
  let captures: Record<string, unknown>;
  let run: (captures: Record<string, unknown>) => unknown;
  try {
    const stub = await resolveStub(job.task_id);
    if (!stub) throw new BadJobRowError(job.id, `task "${job.task_id}" is not registered in this process`);
    run = stub.run;
    try {
      const decoded = deserialize(deps.decode(job.captures));
      if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) throw new TypeError(`captures decode to ${Array.isArray(decoded) ? "an array" : typeof decoded}, expected an object`);
      captures = decoded as Record<string, unknown>;
    } catch (error) {
      throw new BadJobRowError(job.id, `its captures cannot be decoded (${(error as Error).message})`, error);
    }
  } catch (error) {
    // A row that can never run (garbage captures, missing stub) is discarded at once: retrying cannot fix it.
    span.end(error);
    await finish(job, deps, "discarded", error, 0, started, event);
    return;
  }

  const writer = progressWriter(deps, job.id);
  const context: JobContext = {
    jobId: job.id,
    attempt: job.attempt,
    maxAttempts: job.max_attempts,
    queue: job.queue,
    task: job.task_id,
    meta: job.meta,
    signal: controller.signal,
    progress: writer.progress,
  };
  const timer = setTimeout(() => controller.abort(new JobTimeoutError(job.timeout_ms)), job.timeout_ms);
  let aborted: (() => void) | undefined;
  const abortion = new Promise<never>((_, reject) => {
    aborted = () => reject(controller.signal.reason);
    controller.signal.addEventListener("abort", aborted, { once: true });
  });
  abortion.catch(() => undefined);
  try {
    const value = await Promise.race([span.run(() => jobContextStorage.run(context, async () => run(captures))), abortion]);
    const serialized = JSON.stringify(deps.encode(serializeChecked(value, "result", `task ${job.task_id}`)));
    const bytes = Buffer.byteLength(serialized);
    if (bytes > deps.maxResultBytes) throw new ResultTooLargeError(bytes, deps.maxResultBytes);
    await writer.flush();
    deps.acker.complete(job.id, serialized);
    span.end();
    deps.events.emit("job:stop", { job: event, state: "completed", durationMs: performance.now() - started });
  } catch (error) {
    span.end(error);
    await writer.flush();
    const dueMs = await outcomeOfError(job, deps, error, started, event);
    if (dueMs !== undefined) rescheduled(dueMs);
  } finally {
    clearTimeout(timer);
    if (aborted) controller.signal.removeEventListener("abort", aborted);
  }
}

/** Records the outcome of a thrown error; returns when the job is due again, if it was rescheduled. */
async function outcomeOfError(job: ClaimedJob, deps: ExecutorDeps, error: unknown, started: number, event: JobEventInfo): Promise<number | undefined> {
  if (error instanceof Snooze) {
    await query(deps, snoozeJob(deps.q), [job.id, error.delayMs]);
    deps.events.emit("job:error", { job: event, state: "scheduled", error, durationMs: performance.now() - started });
    return Date.now() + error.delayMs;
  }
  // Shutdown released the job to other nodes already; nothing to record.
  if (error instanceof AbortReason && error.kind === "shutdown") return;
  const cancelled = (error instanceof AbortReason && error.kind === "cancel") || error instanceof Cancel;
  const final = cancelled ? "cancelled" : error instanceof Discard || job.attempt >= job.max_attempts ? "discarded" : null;
  if (final) {
    await finish(job, deps, final, error, 0, started, event);
    return undefined;
  }
  const delayMs = backoffDelay(job.attempt, job.backoff);
  await finish(job, deps, "retryable", error, delayMs, started, event);
  return Date.now() + delayMs;
}

async function finish(job: ClaimedJob, deps: ExecutorDeps, state: "retryable" | "discarded" | "cancelled", error: unknown, delayMs: number, started: number, event: JobEventInfo) {
  const recorded = recordError(error, job.attempt);
  await query(deps, failJob(deps.q), [job.id, state, JSON.stringify([recorded]), delayMs, deps.doneChannel]);
  deps.events.emit("job:error", { job: event, state, error: error instanceof Error ? error : new Error(recorded.message), durationMs: performance.now() - started });
  deps.logger.debug("durable: attempt failed", { jobId: job.id, task: job.task_id, attempt: job.attempt, state, error: recorded.message });
}

/**
 * Outcome writes retry for about a minute: losing one only leaves the job
 * executing until its node's lease lapses and it is rescued, never lost.
 */
async function query(deps: ExecutorDeps, text: string, values: unknown[]): Promise<void> {
  for (let delay = 50, tries = 0; ; delay = Math.min(delay * 2, 5_000), tries++) {
    try {
      await deps.pool.query(text, values);
      return;
    } catch (error) {
      if (tries >= 15) {
        deps.logger.error("durable: giving up recording a job outcome; the job will be rescued", { error: String(error) });
        return;
      }
      deps.logger.warn("durable: recording a job outcome failed; retrying", { error: String(error), retryInMs: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
