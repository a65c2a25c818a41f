import { InvalidOptionError } from "../errors.js";
import { describe, parseDuration } from "./duration.js";
import { didYouMean } from "../contract/index.js";
import { normalizeUnique, type NormalizedUnique } from "../unique/options.js";

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
  /** Stable task name; read by the transformer, ignored at run time. */
  name?: string;
  backoff?: BackoffOption;
  unique?: UniqueOption;
  /** A pg client inside a transaction: the job commits or rolls back with it. */
  client?: QueryableClient;
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
  replace?: Array<"scheduled_at" | "meta" | "priority" | "tags" | "max_attempts">;
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
}

const ASYNC_KEYS = ["nodeType", "queue", "maxAttempts", "timeout", "priority", "delay", "at", "meta", "tags", "name", "backoff", "unique", "client"];

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

  let queue: string;
  if (o.queue !== undefined) {
    queue = validateQueueName("queue", o.queue);
  } else {
    const nodeType = o.nodeType ?? "worker";
    if (typeof nodeType !== "string" || !defaults.nodeTypes.includes(nodeType)) {
      throw new InvalidOptionError(
        "nodeType",
        `unknown node type ${describe(nodeType)}.${typeof nodeType === "string" ? didYouMean(nodeType, defaults.nodeTypes) : ""} Declare new node types with durable.start({ nodeTypes: [...] }).`,
      );
    }
    queue = queueForNodeType(nodeType);
  }

  const maxAttempts = o.maxAttempts === undefined ? defaults.maxAttempts : o.maxAttempts;
  if (!Number.isInteger(maxAttempts) || (maxAttempts as number) < 1 || (maxAttempts as number) > 1000) {
    throw new InvalidOptionError("maxAttempts", `expected an integer from 1 to 1000, got ${describe(maxAttempts)}. Use maxAttempts: 1 to run at most once.`);
  }
  const timeoutMs = o.timeout === undefined ? defaults.timeoutMs : parseDuration("timeout", o.timeout);
  if (timeoutMs < 1) throw new InvalidOptionError("timeout", `must be at least 1 ms; a job without a time limit is not allowed. Use a long duration like "24h" instead.`);
  const priority = o.priority === undefined ? 0 : o.priority;
  if (!Number.isInteger(priority) || (priority as number) < 0 || (priority as number) > 9) {
    throw new InvalidOptionError("priority", `expected an integer from 0 (runs first) to 9 (runs last), got ${describe(priority)}.`);
  }

  let runAt: Date | null = null;
  if (o.delay !== undefined && o.at !== undefined) {
    throw new InvalidOptionError("delay", "cannot be combined with `at`; pass one of them.");
  }
  if (o.delay !== undefined) {
    const ms = parseDuration("delay", o.delay);
    runAt = ms > 0 ? new Date(Date.now() + ms) : null;
  }
  if (o.at !== undefined) {
    if (!(o.at instanceof Date) || Number.isNaN(o.at.getTime())) {
      throw new InvalidOptionError("at", `expected a valid Date, got ${describe(o.at)}. Use { delay: "5m" } for a relative time.`);
    }
    runAt = o.at;
  }

  const meta = o.meta === undefined ? {} : o.meta;
  if (typeof meta !== "object" || meta === null || Array.isArray(meta) || Object.getPrototypeOf(meta) !== Object.prototype && Object.getPrototypeOf(meta) !== null) {
    throw new InvalidOptionError("meta", `expected a plain object of JSON values like { orgId: 42 }, got ${describe(meta)}.`);
  }
  assertJson("meta", meta);

  const tags = o.tags === undefined ? [] : o.tags;
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== "string" || t.length === 0)) {
    throw new InvalidOptionError("tags", `expected an array of non-empty strings like ["import"], got ${describe(tags)}.`);
  }

  const client = o.client as QueryableClient | undefined;
  if (client !== undefined && (typeof client !== "object" || client === null || typeof client.query !== "function")) {
    throw new InvalidOptionError("client", `expected a pg client (an object with query()), got ${describe(client)}.`);
  }

  return {
    queue,
    maxAttempts: maxAttempts as number,
    timeoutMs,
    priority: priority as number,
    runAt,
    meta: meta as Record<string, unknown>,
    tags: tags as string[],
    backoff: o.backoff === undefined ? null : normalizeBackoff(o.backoff),
    unique: o.unique === undefined ? undefined : normalizeUnique(o.unique),
    client,
  };
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

/** Meta is stored as jsonb and queried by containment, so it must be plain JSON. */
function assertJson(path: string, value: unknown, depth = 0): void {
  if (depth > 32) throw new InvalidOptionError(path, "is nested too deeply (over 32 levels).");
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InvalidOptionError(path, `holds ${value}, which JSON cannot store.`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertJson(`${path}[${i}]`, v, depth + 1));
    return;
  }
  if (typeof value === "object" && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    for (const [k, v] of Object.entries(value)) assertJson(`${path}.${k}`, v, depth + 1);
    return;
  }
  throw new InvalidOptionError(path, `holds ${describe(value)}; meta must be plain JSON (strings, numbers, booleans, null, arrays, plain objects).`);
}
