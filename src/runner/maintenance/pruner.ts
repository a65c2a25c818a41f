import type pg from "pg";
import type { Logger } from "../../events/index.js";
import { pruneFinishedJobs } from "../../prune/index.js";
import type { ServiceSpec } from "./service.js";

/**
 * Deletes finished jobs past their retention, about once a minute,
 * jittered so a fleet does not prune in lockstep. A backlog (a busy
 * system's daily volume ageing out at once) is worked off in back-to-back
 * bounded passes, not one capped pass a minute.
 */
export function prunerService(deps: { pool: pg.Pool; quotedSchema: string; logger: Logger; intervalMs?: number; firstDelayMs?: number }): ServiceSpec {
  return {
    during: "pruning finished jobs",
    intervalMs: deps.intervalMs ?? 60_000,
    jitter: 0.25,
    // The first pass waits a little, so a fleet restarting together does not prune at once.
    firstDelayMs: deps.firstDelayMs ?? 5_000 + Math.random() * 10_000,
    async run() {
      const { deleted, more } = await pruneFinishedJobs(deps.pool, deps.quotedSchema);
      const total = deleted.completed + deleted.discarded + deleted.cancelled;
      if (total > 0) deps.logger.debug("durable: pruned finished jobs", { ...deleted });
      return more ? 100 : undefined;
    },
  };
}
