import type pg from "pg";
import type { Logger } from "../events/index.js";
import { keysOthersRun } from "../nodes/queries.js";

/**
 * A drained build's node claims nothing that a live node of another,
 * undrained build can run: new work goes to the new build, while this node
 * finishes what it holds and keeps running the jobs only its build can
 * (versions whose capture names the new build renamed), so they empty
 * before it is stopped. What others run is re-read on every heartbeat.
 */
export class DrainState {
  draining = false;
  private others = new Map<string, Set<string>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly quotedSchema: string,
    private readonly logger: Logger,
  ) {}

  /** The keys a producer of `queue` claims: all of `own`, or while draining only those no other build runs. */
  keysFor(queue: string, own: string[]): string[] {
    if (!this.draining) return own;
    const others = this.others.get(queue);
    return others ? own.filter((k) => !others.has(k)) : own;
  }

  /** Applies the drained flag read from the node's row; returns whether what the node claims may have changed. */
  async update(draining: boolean, build: string, queues: string[]): Promise<boolean> {
    const was = this.draining;
    if (draining) {
      const { rows } = await this.pool.query(keysOthersRun(this.quotedSchema), [build, queues]);
      this.others = new Map(rows.map((r) => [r.queue as string, new Set(r.keys as string[])]));
    } else {
      this.others.clear();
    }
    this.draining = draining;
    if (draining && !was) this.logger.info("durable: this node's build is drained: it claims only jobs no other build can run", { build });
    if (!draining && was) this.logger.info("durable: this node's build is no longer drained", { build });
    return draining || was;
  }
}
