import type pg from "pg";
import type { DurableEmitter, Logger } from "../../events/index.js";
import { logDiscarded } from "../outcome-report.js";
import { discardUnknownTasks } from "../queries.js";
import type { ServiceSpec } from "./service.js";
import { queryWithoutJit } from "../../db/tx.js";

/**
 * Version skew: a due job whose task no live node has, in a queue live
 * nodes serve, is discarded once it has waited longer than the grace
 * period, with an error naming the task and where it was enqueued.
 */
export function unknownTasksService(deps: { pool: pg.Pool; quotedSchema: string; intervalMs: number; graceMs: number; events: DurableEmitter; logger: Logger }): ServiceSpec {
  return {
    during: "discarding jobs of unknown tasks",
    intervalMs: deps.intervalMs,
    async run() {
      // Estimated per key over a big queue, the statement's cost passes the JIT threshold while it runs in milliseconds.
      const { rows } = await queryWithoutJit(deps.pool, discardUnknownTasks(deps.quotedSchema), [deps.graceMs]);
      if (rows.length === 0) return;
      deps.events.emit("job:discard-unknown", { jobs: rows.map((r) => ({ id: r.id, task: r.task_id })) });
      for (const row of rows) logDiscarded(deps.logger, row);
    },
  };
}
