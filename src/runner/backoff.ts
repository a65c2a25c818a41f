import { MAX_DUE_DELAY_MS } from "../config/limits.js";
import type { BackoffPolicy } from "../config/options.js";

/** Default: exponential from 1 s, doubling per attempt, capped at 1 h, with full jitter on the top half. */
export const DEFAULT_BACKOFF: BackoffPolicy = { type: "exponential", baseMs: 1_000, maxMs: 3_600_000, jitter: true };

/** The row's policy comes from the database: anything but a well-formed one falls back to the default (a NaN delay would make the failure unrecordable). */
function usable(policy: unknown): policy is BackoffPolicy {
  const p = policy as BackoffPolicy | null;
  return typeof p === "object" && p !== null && (p.type === "fixed" || p.type === "exponential") &&
    Number.isFinite(p.baseMs) && p.baseMs >= 0 && (p.type === "fixed" || (Number.isFinite(p.maxMs) && p.maxMs >= 0));
}

export function backoffDelay(attempt: number, policy: BackoffPolicy | null, random = Math.random): number {
  const p = usable(policy) ? policy : DEFAULT_BACKOFF;
  if (p.type === "fixed") return bounded(p.baseMs);
  const raw = Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, attempt - 1));
  // Half fixed, half random: spreads a thundering herd of retries while
  // keeping the delay near its nominal value.
  return bounded(p.jitter ? raw / 2 + random() * (raw / 2) : raw);
}

/** Whole milliseconds, at most MAX_DUE_DELAY_MS: delays are bound as a bigint and added to now() in SQL. */
const bounded = (ms: number) => Math.round(Math.min(ms, MAX_DUE_DELAY_MS));
