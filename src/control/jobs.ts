import { InvalidOptionError } from "../errors.js";
import { normalizeFilter, restrictStates, type JobFilter, type JobState } from "../reports/filter.js";
import { OPERATION_STATES } from "../jobs/states.js";
import { filterWhere } from "../reports/filter-sql.js";
import type { DurableTarget } from "./target.js";
import * as sql from "./queries.js";

// Bulk job writes by filter, in bounded batches so a million-row cancel never
// holds one long transaction's worth of locks.

const BATCH = 1_000;
const DEADLOCK = "40P01";

type Statement = (quotedSchema: string, where: string, limit: string, channel: string) => string;

async function inBatches(t: DurableTarget, filter: JobFilter, allowed: readonly JobState[], statement: Statement, channel: string): Promise<number> {
  const f = normalizeFilter(filter);
  // An empty filter means every job; a forgotten argument must not cancel or delete everything.
  if (Object.values(f).every((v) => v === null) && (filter as JobFilter | undefined)?.all !== true) {
    throw new InvalidOptionError("filter", "is empty, so it would act on every job. Narrow it (e.g. { queue: \"phone_calls\", state: \"pending\" }) or pass { all: true } to mean every job.");
  }
  const states = restrictStates(f, allowed);
  if (states.length === 0) return 0;
  let total = 0;
  for (let deadlocks = 0; ; ) {
    const params: unknown[] = [];
    const where = filterWhere(f, params, states, t.quotedSchema);
    params.push(BATCH, channel);
    try {
      const { rows } = await t.pool.query(statement(t.quotedSchema, where, `$${params.length - 1}`, `$${params.length}::text`), params);
      const n = rows[0]?.n ?? 0;
      total += n;
      if (n < BATCH) return total;
    } catch (error: any) {
      // Cancel locks without skipping and can meet a claim locking in another order; the batch simply runs again.
      if (error?.code !== DEADLOCK || ++deadlocks > 5) throw error;
    }
  }
}

/**
 * Cancels matching unfinished jobs, running ones included: the row is
 * cancelled at once (the running node's late outcome is a no-op, since
 * outcomes only touch executing rows), and the done notification makes that
 * node abort the closure's signal and wakes anyone awaiting the job.
 */
export function cancelJobs(t: DurableTarget, filter: JobFilter): Promise<number> {
  const statement: Statement = (quotedSchema, where, limit, channel) => sql.cancelJobs(quotedSchema, where, limit, channel);
  return inBatches(t, filter, OPERATION_STATES.cancel, statement, t.channels.done);
}

/** Makes matching failed, cancelled, completed or retryable jobs available now. */
export function retryJobs(t: DurableTarget, filter: JobFilter): Promise<number> {
  return inBatches(t, filter, OPERATION_STATES.retry, sql.retryJobs, t.channels.insert);
}

/** Deletes matching jobs that are not running (cancel a running job first). */
export function deleteJobs(t: DurableTarget, filter: JobFilter): Promise<number> {
  return inBatches(t, filter, OPERATION_STATES.delete, sql.deleteJobs, "");
}
