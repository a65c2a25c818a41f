import type { Logger } from "../events/index.js";
import { OutcomeRejectedError } from "../errors.js";
import { attemptFacts, type ClaimedJob } from "./claimed-job.js";
import { settleBy } from "./deadline.js";
import { failedOutcome, type Outcome } from "./outcome.js";
import { describeWriteError, isTransientWriteError } from "./write-errors.js";

// The one writer of job outcomes (completed, retryable, discarded, cancelled,
// snoozed). Outcomes that arrive while a write is in flight ride the next
// one, so a busy node records many per round trip and an idle one each at
// once. Rules, in the spirit of River's JobSetStateIfRunning:
//
// - A write only touches a row still executing on this node; a late or
//   duplicate outcome is a no-op.
// - The database down (connection errors, timeouts, restarts): the batch is
//   put back and retried with backoff, in ever smaller batches, for as long
//   as the node runs; shutdown bounds it (drain).
// - A batch the database rejects for what it holds is split in halves until
//   the row at fault stands alone; the others are written meanwhile. A row
//   rejected alone is recorded as a failed attempt with a coded error, then,
//   if even that is refused, as a bare discard; past that it is given up and
//   logged. Nothing is retried forever.
// - A row that keeps failing alone with "transient" errors (a timeout, a
//   dropped connection) while the database answers a ping is treated as
//   rejected after a few rounds.

export type RecordableOutcome = Exclude<Outcome, { kind: "released" }>;

export interface OutcomeEntry {
  job: ClaimedJob;
  outcome: RecordableOutcome;
  /** performance.now() when the attempt started, for durations. */
  startedAt: number;
  /** How many times the database refused this entry's row (bookkeeping of the completer). */
  rejections?: number;
  /** Transient failures of this entry alone while the database answered otherwise. */
  blamed?: number;
}

/** Writes a batch in one statement. Rows no longer executing on this node are skipped, not errors. */
export interface OutcomeStore {
  write(entries: readonly OutcomeEntry[]): Promise<void>;
  /** Resolves when the database answers a trivial query: tells a row that fails from a database that is away. */
  ping?(): Promise<void>;
}

export interface CompleterOptions {
  logger: Logger;
  /** Once per entry, when its write concluded: recorded (or found the job no longer running here), or given up. */
  onSettled?: (entry: OutcomeEntry, recorded: boolean) => void;
  batchSize?: number;
  firstRetryMs?: number;
  maxRetryMs?: number;
}

const BLAME_LIMIT = 3;

export class Completer {
  private readonly queue: OutcomeEntry[] = [];
  private writing: OutcomeEntry[] = [];
  private loop: Promise<void> | null = null;
  private retryMs = 0;
  /** Shrinks on each transient failure, back to batchSize after a success. */
  private batchLimit: number;
  private closed = false;
  private deadline = Infinity;
  private wakeSleeper: (() => void) | null = null;
  private readonly batchSize: number;

  constructor(private readonly store: OutcomeStore, private readonly options: CompleterOptions) {
    this.batchSize = options.batchSize ?? 300;
    this.batchLimit = this.batchSize;
  }

  /** Queues an outcome for the next write. After close(), outcomes are dropped (the job was released). */
  record(entry: OutcomeEntry): void {
    if (this.closed) {
      this.options.logger.debug("durable: an outcome arrived after shutdown; the job was released to other nodes", { jobId: entry.job.id });
      return;
    }
    this.queue.push(entry);
    this.loop ??= this.flushLoop();
  }

  /** Jobs finished here whose outcome is not written yet (queued or being written). */
  unwritten(): string[] {
    return [...this.writing, ...this.queue].map((e) => e.job.id);
  }

  get pending(): number {
    return this.queue.length + this.writing.length;
  }

  /**
   * Writes what is queued, giving up at `deadlineMs` (a Date.now() time):
   * stop() must end within its grace period even when the database is
   * gone. Outcomes left unwritten are logged; their jobs stay executing
   * until this node's lease lapses and another node rescues them.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.deadline = deadlineMs;
    this.wakeSleeper?.();
    if (this.loop) await settleBy(deadlineMs, this.loop);
    this.closed = true;
    const queued = this.queue.splice(0);
    const left = [...this.writing, ...queued];
    if (left.length === 0) return;
    this.options.logger.error("durable: shutdown ended before these job outcomes could be written; the jobs will be rescued and run again", {
      count: left.length,
      jobIds: left.slice(0, 20).map((e) => e.job.id),
    });
    // Entries still being written settle when that write ends.
    for (const entry of queued) this.settle(entry, false);
  }

  private async flushLoop(): Promise<void> {
    // Let outcomes from the same tick join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0 && Date.now() < this.deadline) {
      const batch = this.queue.splice(0, this.batchLimit);
      this.writing = batch;
      const again = await this.write(batch);
      this.writing = [];
      if (again.length === 0) continue;
      // Retried last: the entries behind them get their turn, and a success among them tells a bad row from a dead database.
      this.queue.push(...again);
      await this.backoff();
    }
    this.loop = null;
    if (this.queue.length > 0 && Date.now() < this.deadline) this.loop = this.flushLoop();
  }

  /** Writes a batch, splitting it on rejection; returns the entries to try again later. */
  private async write(batch: OutcomeEntry[]): Promise<OutcomeEntry[]> {
    try {
      await this.store.write(batch);
    } catch (error) {
      if (isTransientWriteError(error)) return this.transientFailure(batch, error);
      if (batch.length > 1) {
        const half = batch.length >> 1;
        return [...(await this.write(batch.slice(0, half))), ...(await this.write(batch.slice(half)))];
      }
      return this.rejected(batch[0]!, error);
    }
    this.retryMs = 0;
    this.batchLimit = this.batchSize;
    for (const entry of batch) this.settle(entry, true);
    return [];
  }

  private async transientFailure(batch: OutcomeEntry[], error: unknown): Promise<OutcomeEntry[]> {
    // Smaller batches next time: a row that breaks the connection or times out ends up alone.
    this.batchLimit = Math.max(1, batch.length >> 1);
    if (batch.length === 1 && (await this.databaseAnswers())) {
      const entry = batch[0]!;
      if ((entry.blamed = (entry.blamed ?? 0) + 1) >= BLAME_LIMIT) return this.rejected(entry, error);
    }
    // Once per outage, not once per retry.
    const level = this.retryMs === 0 ? "warn" : "debug";
    this.options.logger[level]("durable: writing job outcomes failed; retrying", { count: batch.length, error: describeWriteError(error), retryInMs: this.nextRetryMs() });
    return batch;
  }

  private async databaseAnswers(): Promise<boolean> {
    if (!this.store.ping) return false;
    try {
      await this.store.ping();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The database refused this row alone. First record the attempt as failed
   * with the refusal named; if that is refused too, a bare discard; then
   * give up on it.
   */
  private async rejected(entry: OutcomeEntry, error: unknown): Promise<OutcomeEntry[]> {
    const rejections = (entry.rejections = (entry.rejections ?? 0) + 1);
    const reason = describeWriteError(error);
    this.options.logger.warn("durable: the database refused a job outcome", { jobId: entry.job.id, task: entry.job.task_id, outcome: entry.outcome.kind, error: reason });
    if (rejections <= 2) {
      const refusal = new OutcomeRejectedError(entry.job.id, entry.outcome.kind, reason);
      const facts = attemptFacts(entry.job);
      entry.outcome = rejections === 1 ? failedOutcome(refusal, facts) : failedOutcome(refusal, { ...facts, maxAttempts: 0 }, { bare: true });
      entry.blamed = 0;
      return this.write([entry]);
    }
    this.options.logger.error("durable: giving up on recording a job outcome; the job stays executing until its node stops", { jobId: entry.job.id, task: entry.job.task_id, error: reason });
    this.settle(entry, false);
    return [];
  }

  private nextRetryMs(): number {
    this.retryMs = Math.min(this.options.maxRetryMs ?? 5_000, Math.max(this.options.firstRetryMs ?? 50, this.retryMs * 2));
    return this.retryMs;
  }

  /** Sleeps the current retry delay, or less when the drain deadline comes first. */
  private async backoff(): Promise<void> {
    const ms = Math.min(this.retryMs || this.nextRetryMs(), this.deadline - Date.now());
    if (ms <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeSleeper = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeSleeper = null;
  }

  private settle(entry: OutcomeEntry, recorded: boolean): void {
    try {
      this.options.onSettled?.(entry, recorded);
    } catch (error) {
      this.options.logger.error("durable: reporting a job outcome failed", { jobId: entry.job.id, error: String(error) });
    }
  }
}
