import { jobContextStorage, type JobContext } from "../context.js";
import { STEP_SCOPE } from "../steps/current.js";
import { JobTimeoutError } from "../errors.js";
import { asError } from "../runner/error-record.js";
import { decideOutcome, type Outcome, type Settled } from "../runner/outcome.js";
import { roundTrip, type SerializedValue } from "../serialize/values.js";
import type { EnqueuedJob } from "./store.js";
import type { TestingSteps } from "./steps.js";

// One attempt of a recorded job in this process, decided by the runner's own
// outcome rules (src/runner/outcome.ts): a value completes, a throw retries
// or discards, Discard/Cancel/Snooze steer, a result that cannot be stored
// or is over maxResultBytes fails the attempt. Captures are rebuilt from
// their serialized text on every attempt, as a worker would, so a closure
// that mutates them cannot leak state into its retry. Its durable.* calls
// are steps of the job's in-memory journal (steps.ts), raced against the
// closure as the executor races a StepScope: a replay that diverged ends the
// attempt with its NondeterminismError.

export interface AttemptOutcome {
  state: EnqueuedJob["state"];
  result?: unknown;
  error?: Error;
}

const serialized = new WeakMap<EnqueuedJob, SerializedValue>();

export function rememberSerialized(job: EnqueuedJob, value: SerializedValue): void {
  serialized.set(job, value);
}

async function settle(job: EnqueuedJob, scope: TestingSteps | null): Promise<Settled> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new JobTimeoutError(job.options.timeoutMs)), job.options.timeoutMs);
  const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }));
  aborted.catch(() => undefined);
  const context: JobContext & { [STEP_SCOPE]?: TestingSteps } = {
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
    ...(scope ? { [STEP_SCOPE]: scope } : {}),
  };
  try {
    const captures = roundTrip<Record<string, unknown>>(serialized.get(job)!);
    const running = jobContextStorage.run(context, async () => job.stub.run(captures));
    return { kind: "returned", value: await Promise.race(scope ? [running, aborted, scope.interruption] : [running, aborted]) };
  } catch (error) {
    return { kind: "threw", error };
  } finally {
    scope?.finish();
    clearTimeout(timer);
  }
}

/** Applies an outcome to the in-memory record, as the completer does to the row. */
function apply(job: EnqueuedJob, outcome: Outcome): AttemptOutcome {
  switch (outcome.kind) {
    case "completed":
      // The result makes the same trip a worker's result makes to the awaiting process.
      job.result = roundTrip(outcome.payload);
      job.state = "completed";
      return { state: job.state, result: job.result };
    case "snoozed":
      job.attempt -= 1;
      job.state = "scheduled";
      job.runAt = new Date(Date.now() + outcome.delayMs);
      return { state: job.state, error: asError(outcome.thrown, "snoozed") };
    // The testing modes never suspend (an await runs the awaited job in place); a released job goes back.
    case "suspended":
    case "released":
      job.state = "available";
      job.runAt = new Date();
      return { state: job.state };
    case "retryable":
      // Due after the backoff, as the completer writes run_at: drain() orders retries by it.
      job.errors.push(outcome.error);
      job.state = "retryable";
      job.runAt = new Date(Date.now() + outcome.delayMs);
      return { state: job.state, error: asError(outcome.thrown, outcome.error.message) };
    default:
      job.errors.push(outcome.error);
      job.state = outcome.kind;
      return { state: job.state, error: asError(outcome.thrown, outcome.error.message) };
  }
}


export interface AttemptEnv {
  maxResultBytes: number;
  /** The step scope of this execution (the job's journal), if durable.* calls inside it are steps. */
  scope?: TestingSteps;
}

export async function runAttempt(job: EnqueuedJob, limits: AttemptEnv): Promise<AttemptOutcome> {
  job.state = "executing";
  job.attempt += 1;
  const settled = await settle(job, limits.scope ?? null);
  const outcome = decideOutcome(settled, { id: job.id, task: job.task, attempt: job.attempt, maxAttempts: job.maxAttempts, backoff: job.options.backoff }, {
    maxResultBytes: limits.maxResultBytes,
    encode: (payload) => payload,
  });
  return apply(job, outcome);
}
