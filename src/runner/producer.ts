import type pg from "pg";
import type { Logger } from "../events/index.js";
import { executeJob, AbortReason, type ClaimedJob, type ExecutorDeps } from "./executor.js";
import { fetchJobs } from "./queries.js";
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
    if (changed) this.dispatch();
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

  private async fill(): Promise<void> {
    if (this.dispatching) {
      this.again = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.again = false;
        while (!this.stopped && !this.control.paused && this.running.size < this.limit) {
          const demand = this.limit - this.running.size;
          const keys = this.taskKeys();
          if (keys.length === 0) break;
          const jobs = await this.claim(demand, keys);
          for (const job of jobs) this.start(job);
          if (jobs.length < demand) break;
        }
      } while (this.again && !this.stopped);
    } finally {
      this.dispatching = false;
    }
  }

  private async claim(demand: number, keys: string[]): Promise<ClaimedJob[]> {
    try {
      if (hasLimits(this.control)) return await this.claimWithinLimits(demand, keys);
      const { rows } = await this.deps.pool.query({
        name: `durable-fetch-${this.deps.q}`,
        text: fetchJobs(this.deps.q),
        values: [this.queue, keys, demand, this.nodeId],
      });
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
        this.dispatch();
      }, waitMs);
    }
    return jobs;
  }

  private start(job: ClaimedJob): void {
    const controller = new AbortController();
    const done = executeJob(job, controller, this.deps).finally(() => {
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
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    return [...this.running.keys()];
  }

  /** After the still-running jobs were released to other nodes: tell their closures to stop. */
  abortRunning(): void {
    for (const entry of this.running.values()) entry.controller.abort(new AbortReason("shutdown", "the node is shutting down"));
  }
}
