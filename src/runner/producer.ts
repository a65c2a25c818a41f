import type pg from "pg";
import type { Logger } from "../events/index.js";
import { executeJob, AbortReason, type ClaimedJob, type ExecutorDeps } from "./executor.js";
import { fetchJobs, releaseJobs } from "./queries.js";
import { statement } from "../db/statements.js";
import { claimLimited, hasLimits, type QueueLimits } from "./limits.js";

export interface QueueControl extends QueueLimits {
  paused: boolean;
  /** Concurrency set with durable.queues.scale(); null keeps the node's own. */
  concurrency: number | null;
}

/**
 * Runs one queue on this node: claims as many due jobs as it has free slots,
 * in one statement, whenever something may have changed (an insert
 * notification, a finished job, the poll timer, a control change).
 */
export class Producer {
  readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private control: QueueControl = { paused: false, concurrency: null, globalConcurrency: null, rateLimit: null };
  private limitTimer: NodeJS.Timeout | null = null;
  private dispatching = false;
  private again = false;
  private stopped = false;
  private scheduled = false;
  private fetchFailures = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly queue: string,
    private readonly localLimit: number,
    private readonly nodeId: string,
    private readonly taskKeys: () => string[],
    private readonly deps: ExecutorDeps & { pool: pg.Pool; logger: Logger },
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
    const ids = this.buffer.splice(0).map((job) => job.id);
    if (ids.length === 0) return;
    this.deps.pool.query(releaseJobs(this.deps.q), [ids, this.nodeId]).catch((error) => {
      // Not fatal: if this fails the jobs are rescued once this node stops heartbeating.
      this.deps.logger.warn("durable: releasing prefetched jobs failed", { queue: this.queue, count: ids.length, error: String(error) });
    });
  }

  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAtMs = Infinity;

  /** Arms a dispatch for when a scheduled or retried job falls due (the poll is only the fallback). */
  wakeAt(dueMs: number): void {
    if (this.stopped || !Number.isFinite(dueMs) || dueMs >= this.wakeAtMs) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAtMs = dueMs;
    // A few ms late on purpose: the claim compares with the database's clock.
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAtMs = Infinity;
      this.wake();
    }, Math.max(0, dueMs - Date.now() + 5));
    this.wakeTimer.unref();
  }

  /** The last claim found fewer due jobs than it asked for. */
  private drained = false;

  /** Something may have made jobs due (an insert, the poll, a timer, a control change): claim again. */
  wake(): void {
    this.drained = false;
    this.dispatch();
  }

  /** Coalesces wake-ups: many in one tick cost one fetch. */
  dispatch(): void {
    if (this.stopped || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.fill();
    });
  }

  /**
   * Claimed jobs waiting for a slot. Claiming one job per freed slot costs a
   * transaction (and a WAL flush) per job; while jobs are short we claim up to
   * a second `limit` ahead, so claims come in batches. Long jobs never wait
   * here: prefetch turns off as soon as recent jobs take longer than
   * PREFETCH_MAX_MS, and nodes with cluster-wide limits never prefetch (a
   * buffered job would count against the limit without running).
   */
  private readonly buffer: ClaimedJob[] = [];
  private readonly recentMs: number[] = [];
  private static readonly PREFETCH_MAX_MS = 25;

  /** Ids of claimed jobs waiting for a slot: held by this node as much as running ones. */
  get buffered(): string[] {
    return this.buffer.map((job) => job.id);
  }

  private get prefetch(): number {
    if (hasLimits(this.control) || this.recentMs.length < 8) return 0;
    const sorted = [...this.recentMs].sort((a, b) => a - b);
    return sorted[sorted.length >> 1]! <= Producer.PREFETCH_MAX_MS ? this.limit : 0;
  }

  private async fill(): Promise<void> {
    if (this.dispatching) {
      this.again = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.again = false;
        while (!this.stopped && !this.control.paused) {
          while (this.buffer.length > 0 && this.running.size < this.limit) this.start(this.buffer.shift()!);
          const prefetch = this.prefetch;
          // Claim when a slot is free, or top the buffer up while jobs still
          // run, so the next batch is here before the slots free up.
          const wanted = this.running.size < this.limit || (prefetch > 0 && this.buffer.length <= prefetch / 2);
          const demand = this.limit - this.running.size + prefetch - this.buffer.length;
          const keys = this.taskKeys();
          if (!wanted || this.drained || keys.length === 0 || demand <= 0) break;
          const jobs = await this.claim(demand, keys);
          this.buffer.push(...jobs);
          // Paused while the claim was in flight: hand them back below instead of starting them.
          if (this.control.paused) break;
          if (jobs.length < demand) {
            // Nothing more is due: don't ask again on every finished job,
            // only when something may have changed (insert, poll, timer).
            this.drained = true;
            while (this.buffer.length > 0 && this.running.size < this.limit) this.start(this.buffer.shift()!);
            break;
          }
        }
      } while (this.again && !this.stopped);
      // A claim that was in flight when the queue paused lands in the buffer.
      if (this.control.paused) this.releaseBuffered();
    } finally {
      this.dispatching = false;
    }
  }

  private async claim(demand: number, keys: string[]): Promise<ClaimedJob[]> {
    try {
      if (hasLimits(this.control)) return await this.claimWithinLimits(demand, keys);
      const { rows } = await this.deps.pool.query(statement(this.deps.pool, `durable-fetch-${this.deps.q}`, fetchJobs(this.deps.q), [this.queue, keys, demand, this.nodeId]));
      this.fetchFailures = 0;
      return rows as ClaimedJob[];
    } catch (error) {
      // The poll timer retries; log once per outage, not once per poll.
      if (this.fetchFailures++ === 0) this.deps.logger.warn("durable: fetching jobs failed; will retry", { queue: this.queue, error: String(error) });
      return [];
    }
  }

  /** Cluster-wide limits (issue 4): a locked claim; when the rate window is full, wake up as it frees a slot. */
  private async claimWithinLimits(demand: number, keys: string[]): Promise<ClaimedJob[]> {
    const { jobs, waitMs } = await claimLimited(this.deps.pool, this.deps.q, this.queue, keys, demand, this.nodeId, this.control);
    this.fetchFailures = 0;
    if (waitMs !== null && !this.limitTimer && !this.stopped) {
      this.limitTimer = setTimeout(() => {
        this.limitTimer = null;
        this.wake();
      }, waitMs);
    }
    return jobs;
  }

  private start(job: ClaimedJob): void {
    const controller = new AbortController();
    const startedAt = performance.now();
    const done = executeJob(job, controller, this.deps, (dueMs) => this.wakeAt(dueMs))
      // executeJob records every outcome itself; anything escaping it is our bug, and must not take the node down.
      .catch((error) => this.deps.logger.error("durable: internal error while running a job", { jobId: job.id, error: String(error) }))
      .finally(() => {
      this.recentMs.push(performance.now() - startedAt);
      if (this.recentMs.length > 32) this.recentMs.shift();
      this.running.delete(job.id);
      if (this.running.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      this.dispatch();
    });
    this.running.set(job.id, { controller, done });
  }

  /** Aborts a running job's signal because it was cancelled elsewhere. */
  cancel(jobId: string, reason: string): boolean {
    const entry = this.running.get(jobId);
    if (!entry) return false;
    entry.controller.abort(new AbortReason("cancel", reason));
    return true;
  }

  /** Stops claiming; resolves when running jobs finish or the grace period ends, returning the ids still running. */
  async stop(graceMs: number): Promise<string[]> {
    this.stopped = true;
    if (this.limitTimer) clearTimeout(this.limitTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    // Claimed but never started: hand back with the running ones.
    return [...this.running.keys(), ...this.buffer.splice(0).map((job) => job.id)];
  }

  /** After the still-running jobs were released to other nodes: tell their closures to stop. */
  abortRunning(): void {
    for (const entry of this.running.values()) entry.controller.abort(new AbortReason("shutdown", "the node is shutting down"));
  }
}
