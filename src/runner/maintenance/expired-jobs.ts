import type pg from "pg";
import type { DurableEmitter, Logger } from "../../events/index.js";
import { logDiscarded } from "../outcome-report.js";
import { discardExpiredJobs } from "../expiry-queries.js";
import type { ServiceSpec } from "./service.js";

/**
 * Deadlines: discards jobs whose deadline passed before they started. The
 * claim already skips them, so a late sweep never lets one run late; it
 * only records the outcome (and starts the discard hook) within a beat.
 */
export function expiredJobsService(deps: { pool: pg.Pool; quotedSchema: string; intervalMs: number; events: DurableEmitter; logger: Logger }): ServiceSpec {
  return {
    during: "discarding jobs past their deadline",
    intervalMs: deps.intervalMs,
    async run() {
      const { rows } = await deps.pool.query(discardExpiredJobs(deps.quotedSchema));
      if (rows.length === 0) return;
      deps.events.emit("job:expired", { jobs: rows.map((r) => ({ id: r.id as string, task: r.task_id as string, queue: r.queue as string })) });
      for (const row of rows) logDiscarded(deps.logger, row);
    },
  };
}
