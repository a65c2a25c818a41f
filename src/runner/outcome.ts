import type { BackoffPolicy } from "../config/options.js";
import { DurableError, ResultTooLargeError, type RecordedError } from "../errors.js";
import { Cancel, Discard, Snooze } from "../outcomes.js";
import { bytesOver } from "../serialize/text.js";
import { serializeChecked, type SerializedValue } from "../serialize/values.js";
import { sealPlaces, type SealPlace } from "../serialize/codec.js";
import { MAX_DUE_DELAY_MS } from "../config/limits.js";
import { backoffDelay } from "./backoff.js";
import { recordError } from "./error-record.js";

// The one place that decides what an attempt's end means for its job. The
// runner and the testing modes both call decideOutcome(); the completer
// (completer.ts) writes what it returns. Pure: no I/O, no clock but the one
// passed in, no randomness but the policy's.
//
// A new kind of outcome (a job that suspends to wait for others, say) is a
// new member of Outcome, a branch here, and a row shape in the completer's
// statement; nothing else in the runner needs to change.

/** Why a running job's signal was aborted from outside the closure. */
export class AbortReason extends DurableError {
  constructor(readonly kind: "cancel" | "shutdown", message: string) {
    super(kind === "cancel" ? "DURABLE_CANCELLED" : "DURABLE_SHUTDOWN", message);
  }
}

/** What happened to an attempt, as the executor saw it. */
export type Settled =
  /** The closure returned (or resolved with) a value. */
  | { kind: "returned"; value: unknown }
  /** The closure threw, its promise rejected, or its signal aborted (timeout, cancel, shutdown). */
  | { kind: "threw"; error: unknown }
  /** The job could not start: no stub for its task here, or captures that do not decode. */
  | { kind: "unrunnable"; error: unknown }
  /** The closure awaits jobs that have not ended, or a timer (src/steps): it stopped, to be replayed later. */
  | { kind: "suspended"; waitingFor: string[]; wakeAt: Date | null };

/** What the decision needs to know about the job. */
export interface AttemptFacts {
  /** The job id, which a sealed result is bound to. */
  id: string;
  task: string;
  attempt: number;
  maxAttempts: number;
  backoff: BackoffPolicy | null;
}

export interface OutcomePolicy {
  maxResultBytes: number;
  /** The codec's encode (encryption at rest), applied to the serialized result before it is measured. */
  encode: (payload: SerializedValue, place: SealPlace) => unknown;
  now?: () => Date;
  random?: () => number;
}

export type Outcome =
  /** `result` is the JSON text stored in jobs.result; `payload` the serialized value before the codec. */
  | { kind: "completed"; result: string; payload: SerializedValue }
  | { kind: "retryable"; error: RecordedError; delayMs: number; thrown: unknown }
  | { kind: "discarded"; error: RecordedError; thrown: unknown }
  | { kind: "cancelled"; error: RecordedError; thrown: unknown }
  /** Back to scheduled after delayMs; the attempt is given back. */
  | { kind: "snoozed"; delayMs: number; thrown: unknown }
  /** Waiting for the jobs in waitingFor to end (or, with none, scheduled after delayMs); the attempt is given back. */
  | { kind: "suspended"; waitingFor: string[]; delayMs: number }
  /** Shutdown handed the job to other nodes already: nothing to record. */
  | { kind: "released" };

export type OutcomeKind = Outcome["kind"];

/** Reads a brand or a class without letting a hostile thrown value (a throwing Proxy) escape. */
function classify(error: unknown): "snooze" | "discard" | "cancel" | "shutdown" | "error" {
  try {
    if (error instanceof Snooze) return "snooze";
    if (error instanceof AbortReason) return error.kind === "cancel" ? "cancel" : "shutdown";
    if (error instanceof Cancel) return "cancel";
    if (error instanceof Discard) return "discard";
    // A replay that diverged from its journal would diverge again: retrying cannot help.
    if (error instanceof DurableError && error.code === "DURABLE_NONDETERMINISM") return "discard";
  } catch {
    /* a value that throws on inspection is an ordinary failure */
  }
  return "error";
}

/** Decides the outcome of one attempt. Never throws. */
export function decideOutcome(settled: Settled, job: AttemptFacts, policy: OutcomePolicy): Outcome {
  const at = policy.now?.() ?? new Date();
  if (settled.kind === "returned") {
    const stored = storeResult(settled.value, job, policy);
    if ("result" in stored) return { kind: "completed", ...stored };
    // The closure ran to the end: another attempt would redo its work only to return the same
    // unstorable value (not serializable, or over maxResultBytes), so the job is discarded now.
    return { kind: "discarded", error: recordError(stored.error, job.attempt, at), thrown: stored.error };
  }
  if (settled.kind === "suspended") {
    // A wait for jobs without a deadline keeps a far run_at: the waiting sweep wakes a waiting job whose run_at passed (a timed await).
    const delayMs = settled.wakeAt ? Math.min(Math.max(settled.wakeAt.getTime() - at.getTime(), 0), MAX_DUE_DELAY_MS) : settled.waitingFor.length > 0 ? MAX_DUE_DELAY_MS : 0;
    return { kind: "suspended", waitingFor: settled.waitingFor, delayMs };
  }
  if (settled.kind === "unrunnable") return { kind: "discarded", error: recordError(settled.error, job.attempt, at), thrown: settled.error };
  switch (classify(settled.error)) {
    case "snooze":
      return { kind: "snoozed", delayMs: snoozeDelay(settled.error), thrown: settled.error };
    case "shutdown":
      return { kind: "released" };
    case "cancel":
      return { kind: "cancelled", error: recordError(settled.error, job.attempt, at), thrown: settled.error };
    case "discard":
      return { kind: "discarded", error: recordError(settled.error, job.attempt, at), thrown: settled.error };
    default:
      return failed(settled.error, job, policy, at);
  }
}

/** A failed attempt: retry after the backoff, or discard when it was the last one. */
function failed(error: unknown, job: AttemptFacts, policy: OutcomePolicy, at: Date): Outcome {
  return failedOutcome(error, job, { now: () => at, random: policy.random });
}

/**
 * The outcome of a failed attempt, also for the completer when the database
 * refuses to record the real one. `bare` records the message alone (the
 * last, smallest thing to try writing).
 */
export function failedOutcome(
  error: unknown,
  job: AttemptFacts,
  options: { bare?: boolean; now?: () => Date; random?: () => number } = {},
): Extract<Outcome, { kind: "retryable" | "discarded" }> {
  const full = recordError(error, job.attempt, options.now?.() ?? new Date());
  const recorded = options.bare ? { attempt: full.attempt, at: full.at, message: full.message, code: full.code } : full;
  if (job.attempt >= job.maxAttempts) return { kind: "discarded", error: recorded, thrown: error };
  return { kind: "retryable", error: recorded, delayMs: backoffDelay(job.attempt, job.backoff, options.random), thrown: error };
}

/** The result as stored, or why it cannot be (not serializable, over maxResultBytes). */
function storeResult(value: unknown, job: AttemptFacts, policy: OutcomePolicy): { result: string; payload: SerializedValue } | { error: unknown } {
  try {
    const payload = serializeChecked(value, "result", `task ${job.task}`);
    const result = JSON.stringify(policy.encode(payload, sealPlaces.result(job.id)));
    const over = bytesOver(result, policy.maxResultBytes);
    return over === null ? { result, payload } : { error: new ResultTooLargeError(over, policy.maxResultBytes, `task ${job.task}`) };
  } catch (error) {
    return { error };
  }
}

/** A Snooze's delay, whatever its shape: a branded object from another copy may carry anything. */
function snoozeDelay(snooze: unknown): number {
  let ms = 0;
  try {
    ms = Number((snooze as { delayMs?: unknown }).delayMs);
  } catch {
    /* a hostile delay snoozes for no time */
  }
  return Number.isFinite(ms) ? Math.round(Math.min(Math.max(ms, 0), MAX_DUE_DELAY_MS)) : 0;
}
