import { jobContextStorage, type JobContext } from "../context.js";
import { JobTimeoutError } from "../errors.js";
import { Cancel, Discard, Snooze } from "../outcomes.js";
import { recordError } from "../runner/executor.js";
import { deserialize, serializeChecked, type SerializedValue } from "../serialize/values.js";
import type { EnqueuedJob } from "./store.js";

// One attempt of a recorded job in this process, with the outcome rules of
// src/runner/executor.ts: a value completes, a throw retries or discards,
// Discard/Cancel/Snooze steer. Captures are rebuilt from their serialized
// form on every attempt, as a worker would, so a closure that mutates them
// cannot leak state into its retry.

export interface AttemptOutcome {
  state: EnqueuedJob["state"];
  result?: unknown;
  error?: Error;
}

const serialized = new WeakMap<EnqueuedJob, SerializedValue>();

export function rememberSerialized(job: EnqueuedJob, value: SerializedValue): void {
  serialized.set(job, value);
}

export async function runAttempt(job: EnqueuedJob): Promise<AttemptOutcome> {
  job.state = "executing";
  job.attempt += 1;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new JobTimeoutError(job.options.timeoutMs)), job.options.timeoutMs);
  const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }));
  aborted.catch(() => undefined);
  const context: JobContext = {
    jobId: job.id,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    queue: job.queue,
    task: job.task,
    meta: structuredClone(job.meta),
    signal: controller.signal,
    progress: async (update) => {
      job.progress.push(update);
    },
  };
  try {
    const captures = deserialize<Record<string, unknown>>(serialized.get(job)!);
    const value = await Promise.race([jobContextStorage.run(context, async () => job.stub.run(captures)), aborted]);
    // The result makes the same trip a worker's result makes to the awaiting process.
    job.result = deserialize(serializeChecked(value, "result", `task ${job.task}`));
    job.state = "completed";
    return { state: job.state, result: job.result };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    if (error instanceof Snooze) {
      job.attempt -= 1;
      job.state = "scheduled";
      job.runAt = new Date(Date.now() + error.delayMs);
      return { state: job.state, error: e };
    }
    job.errors.push(recordError(error, job.attempt));
    if (error instanceof Cancel) job.state = "cancelled";
    else if (error instanceof Discard || job.attempt >= job.maxAttempts) job.state = "discarded";
    else job.state = "retryable";
    return { state: job.state, error: e };
  } finally {
    clearTimeout(timer);
  }
}
