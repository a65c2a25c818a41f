import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type pg from "pg";
import type { NormalizedStart } from "./config/start.js";
import { heartbeatService } from "./runner/maintenance/heartbeat.js";
import { registerNode, unregisterNode } from "./runner/queries.js";

/**
 * A process that runs no queues (an API node, `run: false`) still shows in
 * the nodes table, so operators see every process connected to the schema.
 * It advertises no queues and no task ids: version-skew handling counts only
 * nodes that can run a job, and this one never does. Its timer does not keep
 * the process alive, like the rest of a client-only instance.
 */
export class NodePresence {
  readonly nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly quotedSchema: string,
    private readonly config: NormalizedStart,
  ) {}

  async start(): Promise<void> {
    await this.register();
    const { pool, quotedSchema, config } = this;
    const beat = heartbeatService({ pool, quotedSchema, nodeId: this.nodeId, intervalMs: config.heartbeatIntervalMs, leaseTtlMs: config.leaseTtlMs, register: () => this.register() });
    this.timer = setInterval(() => {
      beat.run().catch((error) => config.logger.debug("durable: node heartbeat failed", { error: (error as Error).message }));
    }, config.heartbeatIntervalMs);
    this.timer.unref();
  }

  private async register(): Promise<void> {
    const { config } = this;
    await this.pool.query(registerNode(this.quotedSchema), [this.nodeId, config.nodeTypes, "{}", [], hostname(), process.pid, config.leaseTtlMs, config.version, []]);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pool.query(unregisterNode(this.quotedSchema), [this.nodeId]).catch(() => undefined);
  }
}
