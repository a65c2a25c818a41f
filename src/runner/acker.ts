import type pg from "pg";
import type { Logger } from "../events/index.js";
import { completeJobs } from "./queries.js";
import { statement } from "../db/statements.js";

/**
 * Batches completions: every completion that arrives while a flush is in
 * flight rides the next one, so a busy node writes many acks per round trip
 * and an idle one writes each at once. A failed flush puts its acks back and
 * retries with backoff; an ack is dropped only when written.
 */
export class Acker {
  private buffer: Array<{ id: string; result: string | null }> = [];
  private inFlight: Promise<void> | null = null;
  private retryDelayMs = 0;
  private idleWaiters: Array<() => void> = [];
  private static readonly BATCH = 300;

  constructor(
    private readonly pool: pg.Pool,
    private readonly q: string,
    private readonly doneChannel: string,
    private readonly logger: Logger,
  ) {}

  complete(id: string, result: string | null): void {
    this.buffer.push({ id, result });
    if (!this.inFlight) this.inFlight = this.flushLoop();
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Jobs finished here whose completion is not written yet (buffered or being written). */
  unwritten(): string[] {
    return [...this.writing, ...this.buffer.map((a) => a.id)];
  }
  private writing: string[] = [];

  /** Resolves once every ack handed in so far is written. */
  async drain(): Promise<void> {
    if (!this.inFlight && this.buffer.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async flushLoop(): Promise<void> {
    // Let completions from the same tick join the first batch.
    await new Promise((r) => setImmediate(r));
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, Acker.BATCH);
      this.writing = batch.map((a) => a.id);
      try {
        await this.pool.query(statement(this.pool, `durable-complete-${this.q}`, completeJobs(this.q), [batch.map((a) => a.id), batch.map((a) => a.result), this.doneChannel]));
        this.retryDelayMs = 0;
      } catch (error) {
        this.buffer.unshift(...batch);
        this.retryDelayMs = Math.min(5_000, Math.max(50, this.retryDelayMs * 2));
        this.logger.warn("durable: writing completions failed; retrying", { count: batch.length, error: String(error), retryInMs: this.retryDelayMs });
        await new Promise((r) => setTimeout(r, this.retryDelayMs));
      } finally {
        this.writing = [];
      }
    }
    this.inFlight = null;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
