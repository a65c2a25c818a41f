// Limits that come from the platform, named once so every check and every
// message agrees.

/** The longest delay setTimeout/setInterval honour: 2^31-1 ms (~24.8 days). Longer ones fire at once, in a loop. */
export const MAX_TIMER_MS = 2_147_483_647;

/** The longest delay written to the database as a due time (run_at, backoff, snooze, leases): ten years. */
export const MAX_DUE_DELAY_MS = 315_360_000_000;

/** Default cap on the serialized captures of one call. */
export const DEFAULT_MAX_CAPTURE_BYTES = 4 * 1024 * 1024;

/** Default cap on the captures and meta one claim brings into a worker (the first job always comes). */
export const DEFAULT_MAX_CLAIM_BYTES = 32 * 1024 * 1024;

/** "2147483647 ms (about 24.8 days)". */
export function describeMs(ms: number): string {
  const days = ms / 86_400_000;
  return days >= 1 ? `${ms} ms (about ${Math.floor(days * 10) / 10} days)` : `${ms} ms`;
}

/** Results up to this size (as stored) ride the completion notification (notifyResults); the payload limit is 8000 bytes for a whole batch. */
export const NOTIFIED_RESULT_BYTES = 2048;
