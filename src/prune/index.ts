import type pg from "pg";
import { InvalidOptionError } from "../errors.js";
import { describe } from "../config/duration.js";
import * as sql from "./queries.js";
import { FINISHED_STATES, type FinishedState } from "../jobs/states.js";

// Pruning: finished jobs are deleted after a retention per state,
// long enough for reports. Per-queue overrides live in queues.retention
// (durable.queues.configure(queue, { retention })). Nodes run a pass about once
// a minute (runner/maintenance/pruner.ts); durable.jobs.prune() runs one now.

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
export async function pruneFinishedJobs(pool: pg.Pool, quotedSchema: string, options: PruneOptions = {}): Promise<PruneResult> {
  const batch = positive("batchSize", options.batchSize, 1_000);
  const maxBatches = positive("maxBatches", options.maxBatches, 10);
  const { rows } = await pool.query(sql.queueRetentions(quotedSchema));
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
    await drain(sql.pruneDefault(quotedSchema), [state, DEFAULT_RETENTION_MS[state], own.map((o) => o.name)]);
    for (const o of own) await drain(sql.pruneQueue(quotedSchema), [state, o.retention[state], o.name]);
  }
  await pool.query(sql.pruneCronTicks(quotedSchema));
  return { deleted, more };
}
