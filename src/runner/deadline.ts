import { MAX_TIMER_MS } from "../config/limits.js";

/**
 * Waits for `work` until `deadlineMs` (a Date.now() time) at most. True when
 * it settled in time; what is still running then is left to finish on its
 * own. Shutdown uses it so stop() ends on time even when the database does
 * not answer.
 */
export async function settleBy(deadlineMs: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.min(MAX_TIMER_MS, Math.max(0, deadlineMs - Date.now())))));
  try {
    return await Promise.race([work.then(() => true, () => true), timeUp]);
  } finally {
    clearTimeout(timer);
  }
}

/** The deadline for a shutdown's last writes: what is left of the grace period, but at least `floorMs` to try once. */
export function finalDeadline(graceDeadlineMs: number, floorMs = 1_000): number {
  return Math.max(graceDeadlineMs, Date.now() + floorMs);
}
