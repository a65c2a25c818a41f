import type pg from "pg";
import type { NormalizedStart } from "../../config/start.js";
import type { DurableEmitter } from "../../events/index.js";
import { cancelledJobsService } from "./cancelled-jobs.js";
import { deadNodesService } from "./dead-nodes.js";
import { expiredJobsService } from "./expired-jobs.js";
import { forgottenClaimsService } from "./forgotten-claims.js";
import { heartbeatService } from "./heartbeat.js";
import { pollerService } from "./poller.js";
import { prunerService } from "./pruner.js";
import { rescuerService } from "./rescuer.js";
import type { ServiceSpec } from "./service.js";
import { knownTasks } from "../../tasks/registry.js";
import { taskRefreshService } from "./task-refresh.js";
import { unknownTasksService } from "./unknown-tasks.js";
import { unrunnableService } from "./unrunnable.js";
import { waitingJobsService } from "./waiting-jobs.js";

export { MaintenanceService, type ServiceSpec } from "./service.js";

/** What the services need of the node they keep. */
export interface MaintainedNode {
  readonly nodeId: string;
  register(): Promise<void>;
  setDraining(draining: boolean): Promise<void>;
  refreshTasks(): Promise<void>;
  refreshControls(): Promise<void>;
  abortCancelled(): Promise<void>;
  heldJobs(): string[];
  wakeAll(): void;
  /** The poll's wake-up: also looks for jobs with a concurrency key again. */
  pollAll(): void;
  readonly producers: ReadonlyMap<string, { wake(): void }>;
}

/**
 * Every periodic service of a node, with its interval. The heartbeat sets
 * the pace: rescue, the cancel check, the deadline sweep and the waiting-job sweep run as often; the forgotten-claim
 * sweep and the check for jobs no node can run every fifth beat; version-skew cleanup, dead-node cleanup and the
 * task refresh every tenth; pruning about once a minute.
 */
export function maintenanceServices(node: MaintainedNode, deps: { pool: pg.Pool; quotedSchema: string; config: NormalizedStart; events: DurableEmitter }): ServiceSpec[] {
  const { pool, quotedSchema, config, events } = deps;
  const beat = config.heartbeatIntervalMs;
  const logger = config.logger;
  const wake = (queue: string) => node.producers.get(queue)?.wake();
  return [
    pollerService({ intervalMs: config.pollIntervalMs, poll: async () => { node.pollAll(); await node.refreshControls(); } }),
    heartbeatService({ pool, quotedSchema, nodeId: node.nodeId, intervalMs: beat, leaseTtlMs: config.leaseTtlMs, register: () => node.register(), onDraining: (d) => node.setDraining(d) }),
    rescuerService({ pool, quotedSchema, intervalMs: beat, events, logger, wake }),
    cancelledJobsService({ intervalMs: beat, abortCancelled: () => node.abortCancelled() }),
    waitingJobsService({ pool, quotedSchema, intervalMs: beat, wake }),
    expiredJobsService({ pool, quotedSchema, intervalMs: beat, events, logger }),
    ...[
      forgottenClaimsService({ pool, quotedSchema, nodeId: node.nodeId, intervalMs: beat * 5, logger, held: () => node.heldJobs(), wake }),
      unknownTasksService({ pool, quotedSchema, intervalMs: beat * 10, graceMs: config.unknownTaskGraceMs, events, logger }),
      unrunnableService({ pool, quotedSchema, intervalMs: beat * 5, thresholdMs: config.unrunnableWarnAfterMs, events, logger, ownTaskIds: () => knownTasks().map((t) => t.id) }),
      deadNodesService({ pool, quotedSchema, intervalMs: beat * 10 }),
      taskRefreshService({ intervalMs: beat * 10, refresh: () => node.refreshTasks() }),
      // The slower services still run once soon after start, then at their own pace.
    ].map((spec) => ({ ...spec, firstDelayMs: beat })),
    prunerService({ pool, quotedSchema, logger }),
  ];
}
