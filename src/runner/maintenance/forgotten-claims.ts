import type pg from "pg";
import type { Logger } from "../../events/index.js";
import { releaseForgottenJobs } from "../queries.js";
import type { ServiceSpec } from "./service.js";

/**
 * Hands back jobs claimed in this node's name that it is not running (the
 * claim's reply was lost). Only when the pool bounds query time: a claim
 * reply may arrive until then, and one arriving after a release could run
 * a job that already succeeded elsewhere. `held` lists every job this node
 * has: running, buffered, and finished with its outcome not yet written.
 */
export function forgottenClaimsService(deps: { pool: pg.Pool; quotedSchema: string; nodeId: string; intervalMs: number; logger: Logger; held: () => string[]; wake: (queue: string) => void }): ServiceSpec {
  return {
    during: "releasing claims this node never received",
    intervalMs: deps.intervalMs,
    async run() {
      const queryTimeoutMs = Number((deps.pool as unknown as { options?: { query_timeout?: unknown } }).options?.query_timeout) || 0;
      if (queryTimeoutMs <= 0) return;
      const { rows } = await deps.pool.query(releaseForgottenJobs(deps.quotedSchema), [deps.nodeId, deps.held(), queryTimeoutMs + 30_000]);
      if (rows.length === 0) return;
      deps.logger.warn("durable: released jobs claimed for this node that it never received (a lost reply)", { count: rows.length });
      for (const queue of new Set(rows.map((r) => r.queue as string))) deps.wake(queue);
    },
  };
}
