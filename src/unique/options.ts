import { InvalidOptionError } from "../errors.js";
import { describe, parseDuration } from "../config/duration.js";
import { didYouMean } from "../contract/index.js";
import { JOB_STATES } from "../reports/filter.js";

export type UniqueBy = "task" | "captures" | "meta" | "queue";
export type UniqueReplaceField = "captures" | "scheduled_at" | "meta" | "priority" | "tags" | "max_attempts";

/** `unique` as validated: what the key is built from, and which existing jobs conflict. */
export interface NormalizedUnique {
  by: UniqueBy[];
  keys: string[] | null;
  /** Sliding window in ms; null means forever. */
  periodMs: number | null;
  states: string[];
  replace: UniqueReplaceField[];
}

const UNIQUE_KEYS = ["by", "keys", "period", "states", "replace"];
const BY: UniqueBy[] = ["task", "captures", "meta", "queue"];
const REPLACE: UniqueReplaceField[] = ["captures", "scheduled_at", "meta", "priority", "tags", "max_attempts"];
/** Cancelled and discarded jobs don't block a new one: the work did not happen. */
export const DEFAULT_UNIQUE_STATES = ["available", "scheduled", "executing", "retryable", "waiting", "completed"];
/** Oban's default window; pass "forever" or a longer period for cache-like dedupe. */
export const DEFAULT_UNIQUE_PERIOD_MS = 60_000;

function list<T extends string>(option: string, value: unknown, allowed: readonly T[], example: string): T[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidOptionError(option, `expected a non-empty array like ${example}, got ${describe(value)}.`);
  }
  for (const v of value) {
    if (typeof v !== "string" || !allowed.includes(v as T)) {
      throw new InvalidOptionError(option, `${describe(v)} is not allowed.${typeof v === "string" ? didYouMean(v, allowed) : ` Use some of: ${allowed.join(", ")}.`}`);
    }
  }
  return [...new Set(value as T[])];
}

export function normalizeUnique(value: unknown): NormalizedUnique {
  if (value === true) value = {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidOptionError("unique", `expected true or an object like { by: ["meta"], period: "24h" }, got ${describe(value)}.`);
  }
  const u = value as Record<string, unknown>;
  for (const key of Object.keys(u)) {
    if (!UNIQUE_KEYS.includes(key)) throw new InvalidOptionError(`unique.${key}`, `is not an option of unique.${didYouMean(key, UNIQUE_KEYS)}`);
  }
  const by = u.by === undefined ? (["task", "captures"] as UniqueBy[]) : list("unique.by", u.by, BY, `["task", "captures"]`);
  let keys: string[] | null = null;
  if (u.keys !== undefined) {
    if (!Array.isArray(u.keys) || u.keys.length === 0 || u.keys.some((k) => typeof k !== "string" || k.length === 0)) {
      throw new InvalidOptionError("unique.keys", `expected a non-empty array of capture or meta key names like ["sender"], got ${describe(u.keys)}.`);
    }
    if (!by.includes("captures") && !by.includes("meta")) {
      throw new InvalidOptionError("unique.keys", `selects captures or meta keys, but unique.by has neither; add "captures" or "meta" to unique.by.`);
    }
    keys = [...new Set(u.keys as string[])].sort();
  }
  let periodMs: number | null = DEFAULT_UNIQUE_PERIOD_MS;
  if (u.period === "forever" || u.period === Infinity) periodMs = null;
  else if (u.period !== undefined) {
    periodMs = parseDuration("unique.period", u.period);
    if (periodMs < 1) throw new InvalidOptionError("unique.period", `must be longer than 0; use a duration like "24h", or "forever".`);
  }
  const states = u.states === undefined ? DEFAULT_UNIQUE_STATES : list("unique.states", u.states, JOB_STATES, `["available", "scheduled", "executing"]`);
  const replace = u.replace === undefined ? [] : list("unique.replace", u.replace, REPLACE, `["scheduled_at", "meta"]`);
  return { by, keys, periodMs, states, replace };
}
