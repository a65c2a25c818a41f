import { InvalidOptionError, UntransformedCallError } from "../errors.js";
import { describe, parseDuration } from "./duration.js";
import { MAX_DUE_DELAY_MS } from "./limits.js";
import { didYouMean } from "../contract/index.js";
import { isTaskStub, type TaskStub } from "../tasks/registry.js";

// The options of durable.async that say *whether and when* a job may run
// beyond "as soon as possible": a deadline, a hook on discard, debounce and
// per-key concurrency. Validated here so config/options.ts stays about the
// basic job fields.

/** `{ deadline: "10m" }` or `{ expiresAt: date }`: when the job must have started, or be discarded. */
export function expiresAtOf(o: Record<string, unknown>): Date | null {
  if (o.deadline !== undefined && o.expiresAt !== undefined) throw new InvalidOptionError("deadline", "cannot be combined with `expiresAt`; pass one of them.");
  if (o.deadline !== undefined) {
    const ms = parseDuration("deadline", o.deadline);
    if (ms < 1) throw new InvalidOptionError("deadline", `must be longer than 0, like "10m" (the job is discarded if it has not started by then).`);
    return new Date(Date.now() + Math.min(ms, MAX_DUE_DELAY_MS));
  }
  if (o.expiresAt === undefined || o.expiresAt === null) return null;
  if (!(o.expiresAt instanceof Date) || Number.isNaN(o.expiresAt.getTime())) {
    throw new InvalidOptionError("expiresAt", `expected a valid Date, got ${describe(o.expiresAt)}. Use { deadline: "10m" } for a relative time.`);
  }
  // A date before 1970 is as expired as 1970; Postgres cannot hold the earliest dates JavaScript can.
  return o.expiresAt.getTime() < 0 ? new Date(0) : o.expiresAt;
}

/** `{ concurrency: { key, limit } }`: at most `limit` jobs with this key run at once across all nodes. */
export function concurrencyOf(value: unknown): { key: string; limit: number } | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidOptionError("concurrency", `expected { key: customerId, limit: 1 }, got ${describe(value)}.`);
  }
  const c = value as Record<string, unknown>;
  for (const k of Object.keys(c)) if (k !== "key" && k !== "limit") throw new InvalidOptionError(`concurrency.${k}`, `is not a concurrency option.${didYouMean(k, ["key", "limit"])}`);
  const key = typeof c.key === "number" || typeof c.key === "bigint" ? String(c.key) : c.key;
  if (typeof key !== "string" || key.length === 0 || key.length > 500 || key.includes("\u0000")) {
    throw new InvalidOptionError("concurrency.key", `expected a non-empty string or number of at most 500 characters (a customer id, say), got ${describe(c.key)}.`);
  }
  const limit = c.limit ?? 1;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > 10_000) {
    throw new InvalidOptionError("concurrency.limit", `expected an integer from 1 to 10000, got ${describe(c.limit)}. It is how many jobs with this key may run at once.`);
  }
  return { key, limit: limit as number };
}

/** `{ debounce: "5s" }`: wait this long, and let a later call replace the waiting job's values. */
export function debounceOf(value: unknown): number | null {
  if (value === undefined) return null;
  const ms = parseDuration("debounce", value);
  if (ms < 1) throw new InvalidOptionError("debounce", `must be longer than 0, like "5s" (how long to wait for a later call).`);
  return Math.min(ms, MAX_DUE_DELAY_MS);
}

/** One durable.async() call recorded instead of inserted: what a hook inserts later. */
export interface RecordedCall {
  stub: TaskStub;
  captures: Record<string, unknown>;
  options: unknown;
}

const RECORDING = Symbol.for("durable-async.recordingCalls");
type Slot = { calls: unknown[][] } | undefined;

/**
 * While a hook function runs, durable.async() records its arguments instead
 * of inserting (a global slot, so the facade of another copy of the package
 * records into the same one). Returns a promise that never settles, which
 * the hook function's caller ignores.
 */
export function recordCallIfRecording(args: unknown[]): Promise<never> | null {
  const slot = (globalThis as any)[RECORDING] as Slot;
  if (!slot) return null;
  slot.calls.push(args);
  return new Promise<never>(() => undefined);
}

/**
 * `onDiscard: () => durable.async(() => alertOps(orderId), { queue: "alerts" })`:
 * the function runs now, once, so the inner call (transformed like any call
 * site) hands over its stub and captures, snapshotted now; the job is
 * inserted only if and when this one is discarded.
 */
export function recordHook(option: string, value: unknown): RecordedCall | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "function") {
    throw new InvalidOptionError(option, `expected a function that calls durable.async(), like () => durable.async(() => alertOps(id)), got ${describe(value)}.`);
  }
  const previous = (globalThis as any)[RECORDING] as Slot;
  const slot = { calls: [] as unknown[][] };
  (globalThis as any)[RECORDING] = slot;
  try {
    (value as () => unknown)();
  } finally {
    (globalThis as any)[RECORDING] = previous;
  }
  if (slot.calls.length !== 1) {
    throw new InvalidOptionError(option, `must make exactly one durable.async() call, made ${slot.calls.length}. Write it as () => durable.async(() => alertOps(id)).`);
  }
  const [stub, captures, options] = slot.calls[0]!;
  if (typeof stub === "function") throw new UntransformedCallError("async", `the ${option} hook`);
  if (!isTaskStub(stub)) throw new InvalidOptionError(option, `the durable.async() call inside it expects a closure, got ${describe(stub)}.`);
  if (typeof captures !== "object" || captures === null) throw new InvalidOptionError(option, `the durable.async() call inside it passed no captures object; is the call site transformed?`);
  return { stub, captures: captures as Record<string, unknown>, options };
}

/** A hook job is inserted by the database when the discard commits: options that need the caller or the insert path are refused. */
export const NOT_FOR_HOOKS: Record<string, string> = {
  onDiscard: "a hook job has no hook of its own",
  unique: "the hook is inserted once per discard by the database",
  debounce: "the hook is inserted once per discard by the database",
  client: "the hook is inserted in the discarding transaction",
  delay: "the hook runs as soon as the job is discarded",
  at: "the hook runs as soon as the job is discarded",
  deadline: "the hook runs as soon as the job is discarded",
  expiresAt: "the hook runs as soon as the job is discarded",
  concurrency: "pass concurrency on the job, not its hook",
};
