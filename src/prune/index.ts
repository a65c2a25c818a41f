import type pg from "pg";
import type { Logger } from "../events/index.js";
import { InvalidOptionError } from "../errors.js";
import { describe } from "../config/duration.js";
import * as sql from "./queries.js";
import { FINISHED_STATES, type FinishedState } from "../jobs/states.js";

// Pruning (issue 4): finished jobs are deleted after a retention per state,
// long enough for reports. Per-queue overrides live in queues.retention
// (durable.queues.configure(q, { retention })).

export { FINISHED_STATES, type FinishedState };

export const DEFAULT_RETENTION_MS: Record<FinishedState, number> = {
  completed: 7 * 86_400_000,
  discarded: 30 * 86_400_000,
  cancelled: 30 * 86_400_000,
};

export interface PruneOptions {
  /** Rows per DELETE (default 1000): bounds lock time and WAL per statement. */
  batchSize?: number;
  /** Batches per (state, queue) per pass (default 10); the next pass continues. */
  maxBatches?: number;
}

export interface PruneResult {
  deleted: Record<FinishedState, number>;
  /** The pass stopped at its batch cap with rows still due: run the next one soon. */
  more: boolean;
}

function positive(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 1_000_000) {
    throw new InvalidOptionError(option, `expected an integer from 1 to 1000000, got ${describe(value)}.`);
  }
  return value as number;
}

/** One pass over every state and queue override, in bounded batches. */
export async function pruneFinishedJobs(pool: pg.Pool, q: string, options: PruneOptions = {}): Promise<PruneResult> {
  const batch = positive("batchSize", options.batchSize, 1_000);
  const maxBatches = positive("maxBatches", options.maxBatches, 10);
  const { rows } = await pool.query(sql.queueRetentions(q));
  const overrides = rows as Array<{ name: string; retention: Partial<Record<FinishedState, number>> }>;
  const deleted: Record<FinishedState, number> = { completed: 0, discarded: 0, cancelled: 0 };
  let more = false;
  const drain = async (text: string, values: unknown[]) => {
    for (let i = 0; i < maxBatches; i++) {
      const result = await pool.query(text, [...values, batch]);
      deleted[values[0] as FinishedState] += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < batch) return;
    }
    more = true;
  };
  for (const state of FINISHED_STATES) {
    const own = overrides.filter((o) => typeof o.retention[state] === "number");
    await drain(sql.pruneDefault(q), [state, DEFAULT_RETENTION_MS[state], own.map((o) => o.name)]);
    for (const o of own) await drain(sql.pruneQueue(q), [state, o.retention[state], o.name]);
  }
  await pool.query(sql.pruneCronTicks(q));
  return { deleted, more };
}

/**
 * Runs a prune pass from a node's maintenance loop about once a minute, in
 * the background so a long pass never delays the heartbeat. Jittered, so a
 * fleet started together does not prune in lockstep.
 */
export class Pruner {
  private nextAt: number;
  private running: Promise<void> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly q: string,
    private readonly logger: Logger,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = 60_000,
    /** The first pass waits a little, so a fleet restarting together does not prune at once. */
    firstDelayMs = 5_000 + Math.random() * 10_000,
  ) {
    this.nextAt = Date.now() + firstDelayMs;
  }

  maybeRun(): void {
    if (this.stopped || this.running || Date.now() < this.nextAt) return;
    this.nextAt = Date.now() + this.intervalMs * (0.75 + Math.random() / 2);
    this.running = pruneFinishedJobs(this.pool, this.q)
      .then(({ deleted, more }) => {
        const total = deleted.completed + deleted.discarded + deleted.cancelled;
        if (total > 0) this.logger.debug("durable: pruned finished jobs", { ...deleted });
        // A backlog (a busy system's daily volume ageing out at once) is worked
        // off in back-to-back bounded passes, not one capped pass a minute.
        if (more) this.nextAt = Date.now() + 100;
      })
      .catch(this.onError)
      .finally(() => {
        this.running = null;
        if (this.nextAt - Date.now() <= 100 && !this.stopped) {
          // The chained pass is due when this fires. Timers count from the
          // event loop's cached clock, so one can fire a few ms before
          // Date.now() reaches nextAt; without the reset maybeRun() would
          // skip it and the chain would stall until the next heartbeat.
          this.timer = setTimeout(() => {
            this.nextAt = Math.min(this.nextAt, Date.now());
            this.maybeRun();
          }, 100);
          this.timer.unref();
        }
      });
  }

  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  /** Stops scheduling passes and waits for one in progress (graceful stop). */
  async idle(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
