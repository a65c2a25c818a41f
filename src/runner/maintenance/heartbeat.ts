import type pg from "pg";
import { heartbeat } from "../queries.js";
import type { ServiceSpec } from "./service.js";

/**
 * Keeps this node's lease: while it holds, no other node rescues the jobs
 * running here. A node whose row is gone (presumed dead after a long pause,
 * and cleaned up) registers again.
 */
export function heartbeatService(deps: {
  pool: pg.Pool; quotedSchema: string; nodeId: string; intervalMs: number; leaseTtlMs: number; register: () => Promise<void>;
  /** Whether the node's build is drained, as of this beat. */
  onDraining?: (draining: boolean) => Promise<void> | void;
}): ServiceSpec {
  return {
    during: "heartbeat",
    intervalMs: deps.intervalMs,
    whileJobsRun: true,
    async run() {
      const alive = await deps.pool.query(heartbeat(deps.quotedSchema), [deps.nodeId, deps.leaseTtlMs]);
      if (alive.rowCount === 0) await deps.register();
      else await deps.onDraining?.(Boolean(alive.rows[0].draining));
    },
  };
}
