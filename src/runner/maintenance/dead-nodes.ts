import type pg from "pg";
import { deleteDeadNodes } from "../queries.js";
import type { ServiceSpec } from "./service.js";

/** Deletes node rows whose lease lapsed over a minute ago (their jobs were rescued meanwhile). */
export function deadNodesService(deps: { pool: pg.Pool; quotedSchema: string; intervalMs: number }): ServiceSpec {
  return {
    during: "deleting dead nodes",
    intervalMs: deps.intervalMs,
    async run() {
      await deps.pool.query(deleteDeadNodes(deps.quotedSchema));
    },
  };
}
