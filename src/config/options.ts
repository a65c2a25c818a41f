import { InvalidOptionError } from "../errors.js";
import { describe, parseDuration } from "./duration.js";
import { describeMs, MAX_DUE_DELAY_MS, MAX_TIMER_MS } from "./limits.js";
import { unstorableReason } from "../serialize/text.js";
import { didYouMean } from "../contract/index.js";
import { normalizeUnique, type NormalizedUnique } from "../unique/options.js";
import { concurrencyOf, debounceOf, expiresAtOf, NOT_FOR_HOOKS, recordHook } from "./job-semantics.js";
import type { TaskStub } from "../tasks/registry.js";
import { normalizeAfter, type AfterFailure, type NormalizedAfter } from "../steps/after-options.js";

/** Options of durable.async / durable.run, as the user writes them. */
export interface AsyncOptions {
  /** Which kind of process runs the job (default "worker"); maps to queue `ad_hoc_<nodeType>`. */
  nodeType?: string;
  /** Explicit queue name; overrides the node type's queue. */
  queue?: string;
  maxAttempts?: number;
  /** Per-attempt timeout: a duration ("10m") or milliseconds. */
  timeout?: string | number;
  /** 0 runs first, 9 last. */
  priority?: number;
  delay?: string | number;
  at?: Date;
  meta?: Record<string, unknown>;
  tags?: string[];
  /** Stable task name; read by the transformer from the call (a string literal); at run time only checked against the call site's id. */
  name?: string;
  backoff?: BackoffOption;
  unique?: UniqueOption;
  /** A pg client inside a transaction: the job commits or rolls back with it. */
  client?: QueryableClient;
  /** Discard the job, never run it, if it has not started within this duration of the call ("10m"). */
  deadline?: string | number;
  /** Discard the job, never run it, if it has not started by this time. */
  expiresAt?: Date;
  /** A function making one durable.async() call: that job is inserted when this one is discarded. */
  onDiscard?: () => unknown;
  /** Run after this quiet time; a later call with the same unique key replaces the waiting job's captures and due time. */
  debounce?: string | number;
  /** At most `limit` (default 1) jobs with this key run at once across all nodes. */
  concurrency?: { key: string | number; limit?: number };
  /** Jobs (handles or ids) that must complete first; the job waits (state `waiting`) until they end. */
  after?: Array<{ id: string } | string | number>;
  /** When a job in `after` is discarded or cancelled: "cancel" this job (default) or "run" it anyway. */
  afterFailure?: AfterFailure;
}

export type BackoffOption =
  | string
  | number
  | { type?: "exponential"; base?: string | number; max?: string | number; jitter?: boolean }
  | { type: "fixed"; delay: string | number };

export interface UniqueOption {
  /** What makes two calls "the same" (default ["task", "captures"]). */
  by?: Array<"task" | "captures" | "meta" | "queue">;
  /** Only these capture/meta keys (default: all of what `by` selects). */
  keys?: string[];
  /** Sliding window (default "60s", as Oban): a duration, or "forever". */
  period?: string | number;
  /** States of an existing job that count as a conflict (default: all but cancelled and discarded). */
  states?: string[];
  replace?: Array<"captures" | "scheduled_at" | "meta" | "priority" | "tags" | "max_attempts">;
}

export interface QueryableClient {
  query: (...args: any[]) => any;
}

/** Backoff in the form stored with the job (JSON, no functions). */
export interface BackoffPolicy {
  type: "exponential" | "fixed";
  baseMs: number;
  maxMs: number;
  jitter: boolean;
}

export interface NormalizedJobOptions {
  queue: string;
  maxAttempts: number;
  timeoutMs: number;
  priority: number;
  runAt: Date | null;
  meta: Record<string, unknown>;
  tags: string[];
  backoff: BackoffPolicy | null;
  unique: NormalizedUnique | undefined;
  client: QueryableClient | undefined;
  expiresAt: Date | null;
  /** The hook job's stub, captures and options, recorded at the call. */
  onDiscard: { stub: TaskStub; captures: Record<string, unknown>; options: NormalizedJobOptions } | null;
  concurrency: { key: string; limit: number } | null;
  /** `after` and `afterFailure` (src/steps/after-options.ts), when given. */
  dependencies?: NormalizedAfter;
}

const ASYNC_KEYS = [
  "nodeType", "queue", "maxAttempts", "timeout", "priority", "delay", "at", "meta", "tags", "name", "backoff", "unique", "client",
  "after", "afterFailure", "deadline", "expiresAt", "onDiscard", "debounce", "concurrency",
];

export function queueForNodeType(nodeType: string): string {
  return `ad_hoc_${nodeType}`;
}

export interface JobDefaults {
  maxAttempts: number;
  timeoutMs: number;
  nodeTypes: readonly string[];
}

export function normalizeAsyncOptions(input: unknown, defaults: JobDefaults): NormalizedJobOptions {
  if (input === undefined || input === null) input = {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new InvalidOptionError("options", `expected an object like { maxAttempts: 3 }, got ${describe(input)}.`);
  }
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!ASYNC_KEYS.includes(key)) throw new InvalidOptionError(key, `is not an option of durable.async.${didYouMean(key, ASYNC_KEYS)}`);
  }
  const debounceMs = debounceOf(o.debounce);
  return {
    queue: queueOf(o, defaults),
    maxAttempts: integerIn("maxAttempts", o.maxAttempts ?? defaults.maxAttempts, 1, 1000, "Use maxAttempts: 1 to run at most once."),
    timeoutMs: timeoutOf(o.timeout, defaults.timeoutMs),
    priority: integerIn("priority", o.priority ?? 0, 0, 9, "0 (runs first) to 9 (runs last)."),
    runAt: debounceMs === null ? runAtOf(o) : debouncedRunAt(o, debounceMs),
    meta: metaOf(o.meta),
    tags: tagsOf(o.tags),
    backoff: o.backoff === undefined ? null : normalizeBackoff(o.backoff),
    unique: debounceMs === null ? (o.unique === undefined ? undefined : normalizeUnique(o.unique)) : debouncedUnique(o.unique),
    client: clientOf(o.client),
    expiresAt: expiresAtOf(o),
    onDiscard: hookOf(o.onDiscard, defaults),
    concurrency: concurrencyOf(o.concurrency),
    ...(o.after === undefined && o.afterFailure === undefined ? {} : { dependencies: normalizeAfter(o.after, o.afterFailure) }),
  };
}

function debouncedRunAt(o: Record<string, unknown>, debounceMs: number): Date {
  if (o.delay !== undefined || o.at !== undefined) throw new InvalidOptionError("debounce", "cannot be combined with `delay` or `at`: the debounce is the delay.");
  return new Date(Date.now() + debounceMs);
}

/**
 * Debounce is uniqueness among *waiting* jobs with the latest values: the key
 * is the task and meta unless `unique` says otherwise; a later call replaces
 * the waiting job's captures and due time; once it started, a new call
 * enqueues a new job.
 */
function debouncedUnique(value: unknown): NormalizedUnique {
  const base = normalizeUnique(value === undefined ? { by: ["task", "meta"] } : value);
  return { ...base, periodMs: null, states: ["available", "scheduled"], replace: [...new Set([...base.replace, "captures" as const, "scheduled_at" as const])] };
}

function hookOf(value: unknown, defaults: JobDefaults): NormalizedJobOptions["onDiscard"] {
  const call = recordHook("onDiscard", value);
  if (call === null) return null;
  if (call.options !== undefined && call.options !== null && typeof call.options === "object") {
    for (const [key, why] of Object.entries(NOT_FOR_HOOKS)) {
      if ((call.options as Record<string, unknown>)[key] !== undefined) throw new InvalidOptionError(`onDiscard: ${key}`, `is not an option of a discard hook: ${why}. Remove it.`);
    }
  }
  return { stub: call.stub, captures: call.captures, options: normalizeAsyncOptions(call.options, defaults) };
}

function queueOf(o: Record<string, unknown>, defaults: JobDefaults): string {
  if (o.queue !== undefined) return validateQueueName("queue", o.queue);
  const nodeType = o.nodeType ?? "worker";
  if (typeof nodeType !== "string" || !defaults.nodeTypes.includes(nodeType)) {
    throw new InvalidOptionError(
      "nodeType",
      `unknown node type ${describe(nodeType)}.${typeof nodeType === "string" ? didYouMean(nodeType, defaults.nodeTypes) : ""} Declare new node types with durable.start({ nodeTypes: [...] }).`,
    );
  }
  return queueForNodeType(nodeType);
}

function integerIn(option: string, value: unknown, min: number, max: number, hint: string): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new InvalidOptionError(option, `expected an integer from ${min} to ${max}, got ${describe(value)}. ${hint}`);
  }
  return value as number;
}

/** The per-attempt timeout feeds a timer: at least 1 ms, at most what a timer holds. */
function timeoutOf(value: unknown, fallback: number): number {
  const timeoutMs = value === undefined ? fallback : parseDuration("timeout", value);
  if (timeoutMs < 1) throw new InvalidOptionError("timeout", `must be at least 1 ms; a job without a time limit is not allowed. Use a long duration like "24h" instead.`);
  if (timeoutMs > MAX_TIMER_MS) throw new InvalidOptionError("timeout", `must be at most ${describeMs(MAX_TIMER_MS)}, the longest a timer can wait; got ${describeMs(timeoutMs)}.`);
  return timeoutMs;
}

/**
 * When the job is due. Both are due times in the database, so they are
 * clamped rather than refused: a delay to at most ten years, a date before
 * 1970 to 1970 (it is due at once either way; Postgres cannot hold the
 * earliest dates JavaScript can).
 */
function runAtOf(o: Record<string, unknown>): Date | null {
  if (o.delay !== undefined && o.at !== undefined) throw new InvalidOptionError("delay", "cannot be combined with `at`; pass one of them.");
  if (o.delay !== undefined) {
    const ms = Math.min(parseDuration("delay", o.delay), MAX_DUE_DELAY_MS);
    return ms > 0 ? new Date(Date.now() + ms) : null;
  }
  if (o.at === undefined) return null;
  if (!(o.at instanceof Date) || Number.isNaN(o.at.getTime())) {
    throw new InvalidOptionError("at", `expected a valid Date, got ${describe(o.at)}. Use { delay: "5m" } for a relative time.`);
  }
  return o.at.getTime() < 0 ? new Date(0) : o.at;
}

function metaOf(value: unknown): Record<string, unknown> {
  const meta = value === undefined ? {} : value;
  if (typeof meta !== "object" || meta === null || Array.isArray(meta) || Object.getPrototypeOf(meta) !== Object.prototype && Object.getPrototypeOf(meta) !== null) {
    throw new InvalidOptionError("meta", `expected a plain object of JSON values like { orgId: 42 }, got ${describe(meta)}.`);
  }
  assertJson("meta", meta);
  return meta as Record<string, unknown>;
}

function tagsOf(value: unknown): string[] {
  const tags = value === undefined ? [] : value;
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== "string" || t.length === 0)) {
    throw new InvalidOptionError("tags", `expected an array of non-empty strings like ["import"], got ${describe(tags)}.`);
  }
  tags.forEach((tag, i) => assertStorable(`tags[${i}]`, tag));
  return tags as string[];
}

function clientOf(value: unknown): QueryableClient | undefined {
  const client = value as QueryableClient | undefined;
  if (client !== undefined && (typeof client !== "object" || client === null || typeof client.query !== "function")) {
    throw new InvalidOptionError("client", `expected a pg client (an object with query()), got ${describe(client)}.`);
  }
  return client;
}

export function normalizeBackoff(value: unknown): BackoffPolicy {
  if (typeof value === "string" || typeof value === "number") {
    return { type: "exponential", baseMs: parseDuration("backoff", value), maxMs: 3_600_000, jitter: true };
  }
  if (typeof value !== "object" || value === null) {
    throw new InvalidOptionError("backoff", `expected a duration ("10s") or { type, base, max, jitter }, got ${describe(value)}.`);
  }
  const b = value as Record<string, unknown>;
  if (b.type === "fixed") {
    return { type: "fixed", baseMs: parseDuration("backoff.delay", b.delay), maxMs: Number.MAX_SAFE_INTEGER, jitter: false };
  }
  if (b.type !== undefined && b.type !== "exponential") {
    throw new InvalidOptionError("backoff.type", `expected "exponential" or "fixed", got ${describe(b.type)}.`);
  }
  if (b.jitter !== undefined && typeof b.jitter !== "boolean") {
    throw new InvalidOptionError("backoff.jitter", `expected true or false, got ${describe(b.jitter)}.`);
  }
  return {
    type: "exponential",
    baseMs: b.base === undefined ? 1000 : parseDuration("backoff.base", b.base),
    maxMs: b.max === undefined ? 3_600_000 : parseDuration("backoff.max", b.max),
    jitter: b.jitter === undefined ? true : (b.jitter as boolean),
  };
}

const QUEUE_RE = /^[A-Za-z0-9_.:-]{1,100}$/;
export function validateQueueName(option: string, value: unknown): string {
  if (typeof value !== "string" || !QUEUE_RE.test(value)) {
    throw new InvalidOptionError(option, `expected a queue name of letters, digits, "_", "-", "." or ":" (1-100 chars), got ${describe(value)}.`);
  }
  return value;
}

/** Meta and tags are stored as jsonb and text (queried by containment), which hold neither NUL nor lone surrogates. */
function assertStorable(path: string, text: string): void {
  const reason = unstorableReason(text);
  if (reason) throw new InvalidOptionError(path, `${reason}, which Postgres cannot store in meta or tags. Remove it, or put this value in the captures, which store any string.`);
}

/** Meta is stored as jsonb and queried by containment, so it must be plain JSON. */
function assertJson(path: string, value: unknown, depth = 0): void {
  if (depth > 32) throw new InvalidOptionError(path, "is nested too deeply (over 32 levels).");
  if (value === null || typeof value === "boolean") return;
  if (typeof value === "string") return assertStorable(path, value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InvalidOptionError(path, `holds ${value}, which JSON cannot store.`);
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertJson(`${path}[${i}]`, value[i], depth + 1);
    return;
  }
  if (typeof value === "object" && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    for (const [k, v] of Object.entries(value)) {
      assertStorable(`${path} key ${JSON.stringify(k)}`, k);
      assertJson(`${path}.${k}`, v, depth + 1);
    }
    return;
  }
  throw new InvalidOptionError(path, `holds ${describe(value)}; meta must be plain JSON (strings, numbers, booleans, null, arrays, plain objects).`);
}
