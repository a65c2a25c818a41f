import { isDeepStrictEqual } from "node:util";
import type { NormalizedJobOptions } from "../config/options.js";
import type { RecordedError } from "../errors.js";
import type { ProgressUpdate } from "../context.js";
import type { TaskStub } from "../tasks/registry.js";

// The in-memory stand-in for the jobs table while a testing mode is on. Each
// record keeps the captures as they came back from a superjson round trip, so
// what a test inspects is what a worker would have received.

export type TestJobState = "available" | "scheduled" | "executing" | "retryable" | "waiting" | "completed" | "discarded" | "cancelled";

/** States of a job that has not ended (as jobs_active holds them). */
export const ACTIVE_TEST_STATES: readonly TestJobState[] = ["available", "scheduled", "executing", "retryable", "waiting"];

export interface EnqueuedJob {
  id: string;
  task: string;
  queue: string;
  state: TestJobState;
  attempt: number;
  maxAttempts: number;
  priority: number;
  /** The captures after a serialize → deserialize round trip. */
  captures: Record<string, unknown>;
  meta: Record<string, unknown>;
  tags: string[];
  /** When it is due: null until something sets it (a delay, a retry's backoff, a snooze, a wake); then the insert time counts. */
  runAt: Date | null;
  insertedAt: Date;
  /** When it reached completed, discarded or cancelled (a timed await inside a job compares it with its deadline). */
  finishedAt: Date | null;
  /** While `waiting`: the ids of the jobs it runs `after` (it runs once none is unfinished). */
  waitingFor: string[] | null;
  /** The recorded result (round-tripped) once completed. */
  result?: unknown;
  errors: RecordedError[];
  progress: ProgressUpdate[];
  /** True when the call passed `client`: in production it commits with that transaction. */
  inTransaction: boolean;
  stub: TaskStub;
  options: NormalizedJobOptions;
  uniqueKey: string | null;
}

export interface JobFilter {
  /**
   * The task id (`src/users.ts#registerUser#0`), its declaration part
   * (`registerUser`, matching every call site in it), the `name` option, or
   * a RegExp tested against the id.
   */
  task?: string | RegExp;
  queue?: string;
  /** Shorthand for queue `ad_hoc_<nodeType>`. */
  nodeType?: string;
  /** Partial match: every key given must be equal; nested plain objects match partially too. */
  meta?: Record<string, unknown>;
  captures?: Record<string, unknown>;
  state?: TestJobState | TestJobState[];
  tags?: string[];
  priority?: number;
}

let counter = 0;
export function nextId(): string {
  return String(++counter);
}

export function taskMatches(id: string, expected: string | RegExp): boolean {
  if (expected instanceof RegExp) return expected.test(id);
  if (id === expected) return true;
  const parts = id.split("#");
  return parts.length >= 3 && parts[1] === expected;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `expected` is a partial shape of `actual`: plain objects recurse, anything else must be deeply equal. */
export function partialMatch(actual: unknown, expected: unknown): boolean {
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return false;
    return Object.entries(expected).every(([key, value]) => partialMatch(actual[key], value));
  }
  return isDeepStrictEqual(actual, expected);
}

export function matches(job: EnqueuedJob, filter: JobFilter): boolean {
  if (filter.task !== undefined && !taskMatches(job.task, filter.task)) return false;
  if (filter.queue !== undefined && job.queue !== filter.queue) return false;
  if (filter.nodeType !== undefined && job.queue !== `ad_hoc_${filter.nodeType}`) return false;
  if (filter.state !== undefined && !(Array.isArray(filter.state) ? filter.state : [filter.state]).includes(job.state)) return false;
  if (filter.priority !== undefined && job.priority !== filter.priority) return false;
  if (filter.tags !== undefined && !filter.tags.every((t) => job.tags.includes(t))) return false;
  if (filter.meta !== undefined && !partialMatch(job.meta, filter.meta)) return false;
  if (filter.captures !== undefined && !partialMatch(job.captures, filter.captures)) return false;
  return true;
}

/** One line per job, for assertion messages. */
export function describeJob(job: EnqueuedJob): string {
  const show = (v: unknown) => {
    try {
      return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x instanceof Map ? Object.fromEntries(x) : x instanceof Set ? [...x] : x));
    } catch {
      return String(v);
    }
  };
  return `#${job.id} ${job.task} [${job.queue}, ${job.state}] captures=${show(job.captures)} meta=${show(job.meta)}`;
}

export function describeFilter(filter: JobFilter): string {
  const parts = Object.entries(filter).map(([k, v]) => `${k}: ${v instanceof RegExp ? String(v) : JSON.stringify(v)}`);
  return `{ ${parts.join(", ")} }`;
}
