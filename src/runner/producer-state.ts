import { MAX_TIMER_MS } from "../config/limits.js";
import type { ClaimedJob } from "./claimed-job.js";

/** One timer aimed at a moment; arming it again keeps whichever moment is earlier. */
export class DueTimer {
  private timer: NodeJS.Timeout | null = null;
  private dueMs = Infinity;

  /** Fires `fn` at `dueMs` (a Date.now() time), unless already armed for earlier. Far moments wake early, never in a busy loop. */
  arm(dueMs: number, fn: () => void, { unref = false } = {}): void {
    if (!Number.isFinite(dueMs) || dueMs >= this.dueMs) return;
    this.clear();
    this.dueMs = dueMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.dueMs = Infinity;
      fn();
    }, Math.min(MAX_TIMER_MS, Math.max(0, dueMs - Date.now())));
    if (unref) this.timer.unref();
  }

  get armed(): boolean {
    return this.timer !== null;
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.dueMs = Infinity;
  }
}

/**
 * Everything a producer (producer.ts) changes while it runs, in one place.
 *
 * Modes:
 * - `idle`: no claim in flight. wake() sets `scheduled` and claims on the
 *   next tick, so many wake-ups in one tick cost one claim.
 * - `claiming`: a claim (or a run of claims while slots stay free) is in
 *   flight. A wake-up now sets `again`: one more round follows, because
 *   the wake may announce jobs the claim in flight could not see.
 * - `stopped`: stop() was called. Nothing claims or arms a timer again.
 *
 * Flags and counters:
 * - `drained`: the last claim found fewer due jobs than it asked for. A
 *   finished job then frees a slot without a claim; only a wake-up (insert
 *   notification, poll, due timer, control change) clears it, and a claim
 *   that comes back short does not set it if a wake-up (counted in
 *   `wakes`) arrived while it was in flight.
 * - `fetchFailures`: claims failed in a row, so an outage is logged once.
 * - `recentMs`: how long the last jobs ran; while they are short the
 *   producer claims ahead into `buffer` (prefetch).
 *
 * Timers: `dueTimer` wakes the producer when a scheduled or retried job
 * falls due (the poll is the fallback); `limitTimer` when a rate-limit
 * window frees a slot.
 */
export class ProducerState {
  mode: "idle" | "claiming" | "stopped" = "idle";
  scheduled = false;
  again = false;
  drained = false;
  /** Counts wake-ups, so a claim that comes back short can tell whether one arrived while it was in flight. */
  wakes = 0;
  fetchFailures = 0;
  /** Claimed jobs waiting for a slot: held by this node as much as running ones. */
  readonly buffer: ClaimedJob[] = [];
  readonly recentMs: number[] = [];
  /** medianRunMs() until the next ran(): the producer asks on every claim round and every finished job. */
  private median: number | null | undefined;
  readonly dueTimer = new DueTimer();
  /** Watches claimed-ahead jobs while every slot is busy (producer.ts BUFFER_HOLD_MS). */
  readonly holdTimer = new DueTimer();
  /** The buffer went back for want of a free slot: no claiming ahead until a job finishes. */
  holding = false;
  /** Jobs finished so far: the hold timer tells progress from a stall by it. */
  finished = 0;
  readonly limitTimer = new DueTimer();

  get stopped(): boolean {
    return this.mode === "stopped";
  }

  /** Records how long a job ran (the last 32 count). */
  ran(ms: number): void {
    this.finished++;
    this.recentMs.push(ms);
    if (this.recentMs.length > 32) this.recentMs.shift();
    this.median = undefined;
  }

  /** The median of the recent run times, or null until eight jobs ran. */
  medianRunMs(): number | null {
    if (this.median !== undefined) return this.median;
    if (this.recentMs.length < 8) return (this.median = null);
    const sorted = [...this.recentMs].sort((a, b) => a - b);
    return (this.median = sorted[sorted.length >> 1]!);
  }

  stop(): void {
    this.mode = "stopped";
    this.scheduled = false;
    this.dueTimer.clear();
    this.limitTimer.clear();
    this.holdTimer.clear();
  }
}
