import type pg from "pg";
import { cancelFailedDependents, wakeWaitingJobs } from "../../steps/queries.js";
import type { ServiceSpec } from "./service.js";

/**
 * Wakes waiting jobs whose wait is over but whom no end woke: the jobs they
 * waited for ended side by side in two transactions, ended by a path that
 * does not wake (a rescue, a cancel, a version-skew discard), or before the
 * suspension was written. A waiting job is never stuck longer than this
 * service's interval (other nodes claim what it wakes on their next poll).
 * It also cancels the jobs whose `after` dependency failed (unless they run
 * anyway).
 */
export function waitingJobsService(deps: { pool: pg.Pool; quotedSchema: string; intervalMs: number; wake: (queue: string) => void }): ServiceSpec {
  const text = wakeWaitingJobs(deps.quotedSchema);
  const cancel = cancelFailedDependents(deps.quotedSchema);
  return {
    during: "waking waiting jobs",
    intervalMs: deps.intervalMs,
    async run() {
      await deps.pool.query(cancel);
      const { rows } = await deps.pool.query(text);
      for (const row of rows) deps.wake(row.queue);
    },
  };
}
