import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type pg from "pg";
import type { NormalizedStart } from "./config/start.js";
import { heartbeat, registerNode, unregisterNode } from "./runner/queries.js";

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
    private readonly q: string,
    private readonly config: NormalizedStart,
  ) {}

  async start(): Promise<void> {
    await this.register();
    this.timer = setInterval(() => void this.beat(), this.config.heartbeatIntervalMs);
    this.timer.unref();
  }

  private register() {
    const { config } = this;
    return this.pool.query(registerNode(this.q), [this.nodeId, config.nodeTypes, "{}", [], hostname(), process.pid, config.leaseTtlMs]);
  }

  private async beat(): Promise<void> {
    try {
      const alive = await this.pool.query(heartbeat(this.q), [this.nodeId, this.config.leaseTtlMs]);
      // Removed as dead after a long pause: come back.
      if (alive.rowCount === 0) await this.register();
    } catch (error) {
      this.config.logger.debug("durable: node heartbeat failed", { error: (error as Error).message });
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pool.query(unregisterNode(this.q), [this.nodeId]).catch(() => undefined);
  }
}
