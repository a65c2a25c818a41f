import type pg from "pg";
import type { QueryableClient } from "../config/options.js";
import type { Logger } from "../events/index.js";
import type { CronSpec } from "./entry.js";
import * as sql from "./queries.js";
import { withTransaction } from "../db/tx.js";

export interface CronEntry extends CronSpec {
  /** The stub the entry enqueues: the module's own stub registering after its slice's replaces the entry. */
  stub: { id: string };
  /** Inserts this entry's job on `client` (inside the tick's transaction); returns its id. */
  insert: (client: QueryableClient) => Promise<{ id: string }>;
}

export interface SchedulerDeps {
  pool: pg.Pool;
  quotedSchema: string;
  logger: Logger;
  onError: (during: string, error: unknown) => void;
  onTick?: (name: string, tick: Date, jobId: string) => void;
}

/** setTimeout overflows past ~24.8 days; longer waits re-arm hourly. */
const MAX_WAIT_MS = 3_600_000;
/** Catch-up looks at most this many ticks past the last recorded one (a per-second entry missed for a day still finishes fast). */
const MAX_CATCHUP_STEPS = 100_000;

/**
 * Evaluates cron entries on a node that runs jobs. Every such node arms a
 * timer per entry and tries to claim each tick; the cron_ticks primary key
 * lets exactly one insert per tick win.
 */
export class CronScheduler {
  private readonly entries = new Map<string, CronEntry>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private deps: SchedulerDeps | null = null;
  private inflight = new Set<Promise<unknown>>();

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get(name: string): CronEntry | undefined {
    return this.entries.get(name);
  }

  list(): CronEntry[] {
    return [...this.entries.values()];
  }

  add(entry: CronEntry): void {
    const timer = this.timers.get(entry.name);
    if (timer) clearTimeout(timer);
    this.timers.delete(entry.name);
    this.entries.set(entry.name, entry);
    if (this.deps) this.begin(entry);
  }

  start(deps: SchedulerDeps): void {
    this.deps = deps;
    for (const entry of this.entries.values()) this.begin(entry);
  }

  async stop(): Promise<void> {
    this.deps = null;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inflight]);
  }

  private begin(entry: CronEntry): void {
    const work = (entry.catchUp ? this.catchUp(entry) : Promise.resolve()).finally(() => this.arm(entry, new Date()));
    this.track(work);
  }

  private track(promise: Promise<unknown>): void {
    this.inflight.add(promise);
    promise.catch(() => undefined).finally(() => this.inflight.delete(promise));
  }

  private arm(entry: CronEntry, after: Date): void {
    if (!this.deps || this.entries.get(entry.name) !== entry) return;
    const next = entry.schedule.nextRun(after);
    if (!next) return;
    const wait = next.getTime() - Date.now();
    const timer = setTimeout(() => {
      this.timers.delete(entry.name);
      if (wait > MAX_WAIT_MS) return this.arm(entry, after);
      this.track(this.fire(entry, next, false).finally(() => this.arm(entry, next)));
    }, Math.max(0, Math.min(wait, MAX_WAIT_MS)));
    timer.unref();
    this.timers.set(entry.name, timer);
  }

  /** Claims the tick and, if this node won it, inserts the job in the same transaction. */
  async fire(entry: CronEntry, tick: Date, missed: boolean): Promise<boolean> {
    const deps = this.deps;
    if (!deps) return false;
    try {
      const jobId = await withTransaction(deps.pool, async (client) => {
        const claimed = await client.query(missed ? sql.claimMissedTick(deps.quotedSchema) : sql.claimTick(deps.quotedSchema), [entry.name, tick]);
        // Another node won this tick: nothing was written, the commit is empty.
        if (claimed.rowCount !== 1) return null;
        const job = await entry.insert(client);
        await client.query(sql.recordTickJob(deps.quotedSchema), [entry.name, tick, job.id]);
        return job.id;
      });
      if (jobId === null) return false;
      deps.onTick?.(entry.name, tick, jobId);
      return true;
    } catch (error) {
      deps.onError(`enqueueing cron entry "${entry.name}" for ${tick.toISOString()}`, error);
      return false;
    }
  }

  /** The latest tick after the last recorded one that is already due: missed while no node ran. */
  private async catchUp(entry: CronEntry): Promise<void> {
    const deps = this.deps;
    if (!deps) return;
    const { rows } = await deps.pool.query(sql.lastTick(deps.quotedSchema), [entry.name]);
    const last: Date | null = rows[0]?.tick ?? null;
    if (!last) return;
    const now = Date.now();
    let missed: Date | null = null;
    for (let at: Date | null = entry.schedule.nextRun(last), i = 0; at && at.getTime() <= now && i < MAX_CATCHUP_STEPS; at = entry.schedule.nextRun(at), i++) missed = at;
    if (missed) await this.fire(entry, missed, true);
  }
}
