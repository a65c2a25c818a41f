import type { Logger } from "../events/index.js";
import type { ClaimedJob } from "./claimed-job.js";
import { hasLimits, type QueueLimits } from "./limits.js";
import { finalDeadline, settleBy } from "./deadline.js";
import { AbortReason } from "./outcome.js";
import { ProducerState } from "./producer-state.js";

export interface QueueControl extends QueueLimits {
  paused: boolean;
  /** Concurrency set with durable.queues.scale(); null keeps the node's own. */
  concurrency: number | null;
}

/** Where a producer gets its jobs from and hands them back to (Postgres in production, a double in tests). */
export interface JobSource {
  /** Claims up to `demand` due jobs whose "task:hash" key is in `keys`. `waitMs`: when a rate window frees a slot, if it held the claim back. */
  claim(demand: number, keys: string[], control: QueueControl, active?: () => boolean): Promise<{ jobs: ClaimedJob[]; waitMs: number | null; keyedWaiting?: boolean }>;
  /** Jobs with a concurrency key may have been inserted: look for them on the next claim. */
  expectKeyed?(): void;
  /** Hands claimed jobs back without spending their attempt. */
  release(ids: string[]): Promise<void>;
}

/** Runs one job's attempt; resolves when its slot is free again. Must not throw. */
export type RunJob = (job: ClaimedJob, controller: AbortController) => Promise<void>;

/** Prefetch holds at most this much work (at the recent run time), so a buffered job waits about this long at worst. */
const PREFETCH_WINDOW_MS = 25;
/** And at most this many slots' worth: very short jobs would otherwise ask for thousands. */
const PREFETCH_MAX_FACTOR = 50;
/**
 * How long claimed-ahead jobs may wait while no slot frees (a long job holds
 * them all): then they go back, so an idle node runs them, a higher-priority
 * job inserted meanwhile is not queued behind them, and their deadlines
 * hold. Prefetch then stays off until a slot frees.
 */
const BUFFER_HOLD_MS = 100;

/**
 * Runs one queue on this node: claims as many due jobs as it has free slots,
 * in one statement, whenever something may have changed (an insert
 * notification, a finished job, the poll timer, a control change). Its
 * state and modes are documented in producer-state.ts.
 */
export class Producer {
  readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  readonly state = new ProducerState();
  private control: QueueControl = { paused: false, concurrency: null, globalConcurrency: null, rateLimit: null };
  private idleWaiters: Array<() => void> = [];
  /** The claim round in progress, so stop() can wait for jobs it is bringing in. */
  private filling: Promise<void> | null = null;
  /** Jobs with a concurrency key are due but held back by their key's limit: a finished job anywhere may free one. */
  keyedWaiting = false;

  constructor(
    readonly queue: string,
    private readonly localLimit: number,
    private readonly taskKeys: () => string[],
    private readonly source: JobSource,
    private readonly runJob: RunJob,
    private readonly logger: Logger,
  ) {}

  get limit(): number {
    return this.control.concurrency ?? this.localLimit;
  }

  /** Has cluster-wide limits (global concurrency or a rate limit). */
  get limited(): boolean {
    return hasLimits(this.control);
  }

  get paused(): boolean {
    return this.control.paused;
  }

  /** Ids of claimed jobs waiting for a slot. */
  get buffered(): string[] {
    return this.state.buffer.map((job) => job.id);
  }

  setControl(control: QueueControl): void {
    const changed = control.paused !== this.control.paused || control.concurrency !== this.control.concurrency ||
      control.globalConcurrency !== this.control.globalConcurrency || JSON.stringify(control.rateLimit) !== JSON.stringify(this.control.rateLimit);
    this.control = control;
    if (this.control.paused || hasLimits(this.control)) this.releaseBuffered();
    if (changed) this.wake();
  }

  /**
   * Prefetched jobs are executing in the database but not running here. A
   * paused queue must not sit on them (they would stay "executing" until it
   * resumes), and under cluster-wide limits they would hold slots without
   * running: hand them back without spending their attempt.
   */
  private releaseBuffered(): void {
    const ids = this.state.buffer.splice(0).map((job) => job.id);
    if (ids.length === 0) return;
    this.source.release(ids).catch((error) => {
      // Not fatal: if this fails the jobs are rescued once this node stops heartbeating.
      this.logger.warn("durable: releasing prefetched jobs failed", { queue: this.queue, count: ids.length, error: String(error) });
    });
  }

  /** Arms a claim for when a scheduled or retried job falls due (the poll is only the fallback). */
  wakeAt(dueMs: number): void {
    if (this.state.stopped) return;
    // A few ms late on purpose: the claim compares with the database's clock.
    this.state.dueTimer.arm(dueMs + 5, () => this.wake(), { unref: true });
  }

  /** The poll: jobs with a concurrency key may have been inserted since the last keyed claim found none. */
  poll(): void {
    this.source.expectKeyed?.();
    this.wake();
  }

  /** Something may have made jobs due (an insert, the poll, a timer, a control change): claim again. */
  wake(): void {
    this.state.drained = false;
    this.state.wakes++;
    this.dispatch();
  }

  /** Coalesces wake-ups: many in one tick cost one claim. */
  dispatch(): void {
    const s = this.state;
    if (s.stopped || s.scheduled) return;
    s.scheduled = true;
    setImmediate(() => {
      s.scheduled = false;
      if (s.mode === "claiming") s.again = true;
      else if (!s.stopped) this.filling = this.fill().finally(() => (this.filling = null));
    });
  }

  /**
   * How many jobs to claim ahead of free slots. Claiming one job per freed
   * slot costs a transaction per job, and a claim in flight is the limit of
   * a drain of short jobs (throughput is about claim size over claim round
   * trip), so while jobs are short the producer keeps a buffer of claimed
   * jobs: as many as its slots finish in PREFETCH_WINDOW_MS at the recent
   * run time, between `limit` and PREFETCH_MAX_FACTOR × `limit`. A buffered
   * job therefore waits about PREFETCH_WINDOW_MS, and BUFFER_HOLD_MS at most
   * when no slot frees (then the buffer goes back). Long jobs never
   * wait in the buffer: prefetch turns off as soon as recent jobs take
   * longer than the window, and queues with cluster-wide limits never
   * prefetch (a buffered job would count against the limit without running).
   */
  private get prefetch(): number {
    if (hasLimits(this.control) || this.state.holding) return 0;
    const median = this.state.medianRunMs();
    if (median === null || median > PREFETCH_WINDOW_MS) return 0;
    const fits = Math.floor((this.limit * PREFETCH_WINDOW_MS) / Math.max(median, 0.01));
    return Math.min(this.limit * PREFETCH_MAX_FACTOR, Math.max(this.limit, fits));
  }

  private startBuffered(): void {
    const { buffer } = this.state;
    let late: string[] | null = null;
    while (buffer.length > 0 && this.running.size < this.limit) {
      const job = buffer.shift()!;
      // Past its deadline while it waited here: not started late; back it goes, and the expiry sweep discards it.
      if (job.expires_at && job.expires_at.getTime() <= Date.now()) (late ??= []).push(job.id);
      else this.start(job);
    }
    if (late) this.handBack(late, "past their deadline");
    this.armHold();
  }

  /** Watches the buffer while every slot is busy (BUFFER_HOLD_MS): no job finished since, the buffer goes back. */
  private armHold(): void {
    const s = this.state;
    if (s.buffer.length === 0 || this.running.size < this.limit || s.stopped) {
      s.holdTimer.clear();
      return;
    }
    if (s.holdTimer.armed) return;
    const finished = s.finished;
    s.holdTimer.arm(Date.now() + BUFFER_HOLD_MS, () => {
      if (s.stopped || s.buffer.length === 0) return;
      if (s.finished !== finished || this.running.size < this.limit) return this.armHold();
      s.holding = true;
      this.handBack(s.buffer.splice(0).map((job) => job.id), "held behind long-running jobs");
    }, { unref: true });
  }

  /** Claimed jobs that will not start here go back without spending their attempt. */
  private handBack(ids: string[], why: string): void {
    this.source.release(ids).catch((error) => {
      // Not fatal: the forgotten-claim sweep hands back jobs this node holds but does not run.
      this.logger.warn(`durable: handing back claimed jobs ${why} failed`, { queue: this.queue, count: ids.length, error: String(error) });
    });
  }

  /** Jobs that ended elsewhere (cancelled, deleted) while claimed ahead here: never started. */
  dropBuffered(ids: Iterable<string>): void {
    const gone = new Set(ids);
    const { buffer } = this.state;
    for (let i = buffer.length - 1; i >= 0; i--) if (gone.has(buffer[i]!.id)) buffer.splice(i, 1);
  }

  private async fill(): Promise<void> {
    const s = this.state;
    s.mode = "claiming";
    try {
      do {
        s.again = false;
        await this.claimWhileFree();
      } while (s.again && !s.stopped);
      // A claim that was in flight when the queue paused lands in the buffer.
      if (this.control.paused) this.releaseBuffered();
    } finally {
      if (s.mode === "claiming") s.mode = "idle";
    }
  }

  /** Claims until the slots (and the prefetch buffer) are full, or nothing more is due. */
  private async claimWhileFree(): Promise<void> {
    const s = this.state;
    while (!s.stopped && !this.control.paused) {
      this.startBuffered();
      const prefetch = this.prefetch;
      // Claim when a slot is free, or top the buffer up while jobs still
      // run, so the next batch is here before the slots free up.
      const wanted = this.running.size < this.limit || (prefetch > 0 && s.buffer.length <= prefetch / 2);
      const demand = this.limit - this.running.size + prefetch - s.buffer.length;
      const keys = this.taskKeys();
      if (!wanted || s.drained || keys.length === 0 || demand <= 0) return;
      const wakes = s.wakes;
      const jobs = await this.claim(demand, keys);
      s.buffer.push(...jobs);
      // Paused while the claim was in flight: fill() hands them back instead of starting them.
      if (this.control.paused) return;
      // Cut short by its byte budget, not by a lack of due jobs: claim on.
      if (jobs.length < demand && jobs.some((j) => j.budget_full)) continue;
      if (jobs.length < demand) {
        // Nothing more is due: don't ask again on every finished job, only
        // when something may have changed (insert, poll, timer), unless it
        // already did while this claim was in flight.
        // Keyed jobs held back by their key's limit: the next finished job may free one, so not drained.
        s.drained = s.wakes === wakes && !this.keyedWaiting;
        this.startBuffered();
        return;
      }
    }
  }

  private async claim(demand: number, keys: string[]): Promise<ClaimedJob[]> {
    const s = this.state;
    try {
      const { jobs, waitMs, keyedWaiting } = await this.source.claim(demand, keys, this.control, () => !s.stopped);
      s.fetchFailures = 0;
      this.keyedWaiting = keyedWaiting === true;
      if (waitMs !== null && !s.stopped) s.limitTimer.arm(Date.now() + waitMs, () => this.wake());
      return jobs;
    } catch (error) {
      // The poll retries; log once per outage, not once per poll.
      if (s.fetchFailures++ === 0) this.logger.warn("durable: fetching jobs failed; will retry", { queue: this.queue, error: String(error) });
      return [];
    }
  }

  private start(job: ClaimedJob): void {
    const controller = new AbortController();
    const startedAt = performance.now();
    const done = this.runJob(job, controller)
      // runJob records every outcome itself; anything escaping it is our bug, and must not take the node down.
      .catch((error) => this.logger.error("durable: internal error while running a job", { jobId: job.id, error: String(error) }))
      .finally(() => {
        this.state.ran(performance.now() - startedAt);
        this.state.holding = false;
        this.running.delete(job.id);
        if (this.running.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
        this.dispatch();
      });
    this.running.set(job.id, { controller, done });
  }

  /** Aborts a running job's signal because it was cancelled elsewhere. */
  cancel(jobId: string, reason: string): boolean {
    const entry = this.running.get(jobId);
    if (!entry) {
      // Claimed ahead and cancelled before it started: it never runs.
      const before = this.state.buffer.length;
      this.dropBuffered([jobId]);
      return this.state.buffer.length < before;
    }
    entry.controller.abort(new AbortReason("cancel", reason));
    return true;
  }

  /**
   * Stops claiming; resolves when running jobs finish or `deadlineMs` (a
   * Date.now() time) passes, with the ids still held: `started` (closures
   * still running: their attempt happened) and `unstarted` (claimed ahead,
   * never run).
   */
  async stop(deadlineMs: number, hurried?: Promise<void>): Promise<{ started: string[]; unstarted: string[] }> {
    this.state.stop();
    // A claim in flight brings jobs this node holds: wait for it, so they are handed back too.
    if (this.filling) await settleBy(deadlineMs, this.filling);
    // Claimed but never started: back at once, so other nodes run them during the grace.
    // Should that fail, the runner tries again with the rest.
    let unstarted = this.state.buffer.splice(0).map((job) => job.id);
    if (unstarted.length > 0) {
      let released = false;
      await settleBy(finalDeadline(deadlineMs), this.source.release(unstarted).then(() => (released = true)));
      if (released) unstarted = [];
    }
    if (this.running.size > 0) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      await settleBy(deadlineMs, hurried ? Promise.race([idle, hurried]) : idle);
    }
    return { started: [...this.running.keys()], unstarted };
  }

  /** After the still-running jobs were released to other nodes: tell their closures to stop. */
  abortRunning(): void {
    for (const entry of this.running.values()) entry.controller.abort(new AbortReason("shutdown", "the node is shutting down"));
  }
}
