import type { BackoffPolicy } from "../config/options.js";

/** Default: exponential from 1 s, doubling per attempt, capped at 1 h, with full jitter on the top half. */
export const DEFAULT_BACKOFF: BackoffPolicy = { type: "exponential", baseMs: 1_000, maxMs: 3_600_000, jitter: true };

export function backoffDelay(attempt: number, policy: BackoffPolicy | null, random = Math.random): number {
  const p = policy ?? DEFAULT_BACKOFF;
  if (p.type === "fixed") return p.baseMs;
  const raw = Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, attempt - 1));
  // Half fixed, half random: spreads a thundering herd of retries while
  // keeping the delay near its nominal value.
  return p.jitter ? Math.round(raw / 2 + random() * (raw / 2)) : raw;
}
