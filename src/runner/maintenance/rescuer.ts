import type pg from "pg";
import type { DurableEmitter, Logger } from "../../events/index.js";
import { logDiscarded } from "../outcome-report.js";
import { rescueOrphanedJobs } from "../queries.js";
import type { ServiceSpec } from "./service.js";

/**
 * Rescues jobs held by nodes whose lease lapsed (killed, frozen, cut off):
 * back to available, or discarded when that was their last attempt. Every
 * node runs it; SKIP LOCKED keeps two rescuers off the same row.
 */
export function rescuerService(deps: { pool: pg.Pool; quotedSchema: string; intervalMs: number; events: DurableEmitter; logger: Logger; wake: (queue: string) => void }): ServiceSpec {
  return {
    during: "rescuing jobs of dead nodes",
    intervalMs: deps.intervalMs,
    async run() {
      const { rows } = await deps.pool.query(rescueOrphanedJobs(deps.quotedSchema));
      if (rows.length === 0) return;
      deps.events.emit("job:rescue", { jobs: rows.map((r) => ({ id: r.id, state: r.state })) });
      deps.logger.info("durable: rescued jobs from dead nodes", { count: rows.length });
      for (const row of rows) if (row.state === "discarded") logDiscarded(deps.logger, row);
      for (const queue of new Set(rows.map((r) => r.queue as string))) deps.wake(queue);
    },
  };
}
