import type pg from "pg";
import type { QueryableClient } from "../config/options.js";
import type { Logger } from "../events/index.js";
import { Cron } from "croner";
import type { CronSpec } from "./entry.js";
import * as sql from "./queries.js";
import { withTransaction } from "../db/tx.js";

export interface CronEntry extends CronSpec {
  /** The stub the entry enqueues: the module's own stub registering after its slice's replaces the entry. */
  stub: { id: string };
  /** Inserts this entry's job on `client` (inside the tick's transaction); returns its id. */
  insert: (client: QueryableClient) => Promise<{ id: string }>;
  /** "api": added with durable.schedules.add(), read from cron_entries (its tick also checks the row still exists). */
  origin?: "api";
}

interface EntryRow {
  name: string;
  paused: boolean;
  override_expression: string | null;
  /** Set on rows of entries added at run time. */
  expression?: string;
  tz?: string;
  task_id?: string | null;
}

export interface SchedulerDeps {
  pool: pg.Pool;
  quotedSchema: string;
  logger: Logger;
  onError: (during: string, error: unknown) => void;
  onTick?: (name: string, tick: Date, jobId: string) => void;
  /** Notification channel of inserts (an added entry's job is inserted by SQL). */
  insertChannel: string;
  /** How often entries are re-read from the database (pause, retime), besides control notifications. */
  refreshIntervalMs?: number;
}

/** What the API changed for an entry (schedules.ts): the scheduler arms this, not the declared expression. */
interface LiveState {
  paused: boolean;
  expression: string;
  schedule: Cron;
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
  private readonly live = new Map<string, LiveState>();
  private refreshTimer: NodeJS.Timeout | null = null;

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
    this.disarm(entry.name);
    this.entries.set(entry.name, entry);
    this.live.set(entry.name, { paused: false, expression: entry.expression, schedule: entry.schedule });
    if (this.deps) this.track(this.declare([entry]).then(() => this.refresh()).finally(() => this.begin(entry)));
  }

  start(deps: SchedulerDeps): void {
    this.deps = deps;
    const entries = [...this.entries.values()];
    // Declared and read back before arming: an entry paused from the API stays paused on a node that starts later.
    this.track(this.declare(entries).then(() => this.refresh()).finally(() => { for (const entry of entries) this.begin(entry); }));
    const every = deps.refreshIntervalMs ?? 5_000;
    this.refreshTimer = setInterval(() => void this.refresh(), every);
    this.refreshTimer.unref();
  }

  async stop(): Promise<void> {
    this.deps = null;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inflight]);
  }

  private disarm(name: string): void {
    const timer = this.timers.get(name);
    if (timer) clearTimeout(timer);
    this.timers.delete(name);
  }

  private begin(entry: CronEntry): void {
    if (!this.deps || this.entries.get(entry.name) !== entry || this.timers.has(entry.name)) return;
    const live = this.live.get(entry.name);
    const work = (entry.catchUp && !live?.paused ? this.catchUp(entry) : Promise.resolve()).finally(() => this.arm(entry, new Date()));
    this.track(work);
  }

  /** Writes the entries as declared in code (expression, tz, task); what the API changed stays. */
  private async declare(entries: CronEntry[]): Promise<void> {
    const deps = this.deps;
    if (!deps || entries.length === 0) return;
    try {
      await deps.pool.query(sql.declareEntries(deps.quotedSchema), [entries.map((e) => e.name), entries.map((e) => e.expression), entries.map((e) => e.tz), entries.map((e) => e.stub.id)]);
    } catch (error) {
      deps.onError("recording cron entries", error);
    }
  }

  /**
   * Re-reads pause and expression overrides (a control notification, the
   * refresh timer) and re-arms the entries that changed. A stale node is
   * harmless meanwhile: the tick's claim re-checks both.
   */
  async refresh(): Promise<void> {
    const deps = this.deps;
    if (!deps) return;
    let rows: EntryRow[];
    try {
      const declared = [...this.entries.values()].filter((e) => e.origin !== "api").map((e) => e.name);
      const overrides = declared.length === 0 ? [] : (await deps.pool.query(sql.entryOverrides(deps.quotedSchema), [declared])).rows;
      const added: EntryRow[] = (await deps.pool.query(sql.apiEntries(deps.quotedSchema))).rows;
      this.syncAdded(added);
      rows = [...overrides, ...added];
    } catch (error) {
      return deps.onError("reading cron entries", error);
    }
    for (const row of rows) this.apply(row);
  }

  /** Re-arms an entry whose pause or expression changed. */
  private apply(row: EntryRow): void {
    const entry = this.entries.get(row.name);
    const live = this.live.get(row.name);
    if (!entry || !live || !this.deps) return;
    const expression = row.override_expression ?? entry.expression;
    if (live.paused === row.paused && live.expression === expression) return;
    let schedule = live.schedule;
    try {
      if (expression !== live.expression) schedule = new Cron(expression, { paused: true, timezone: entry.tz });
    } catch (error) {
      return this.deps.onError(`reading the new expression of cron entry "${entry.name}"`, error);
    }
    this.live.set(row.name, { paused: row.paused, expression, schedule });
    this.disarm(row.name);
    if (!row.paused) this.arm(entry, new Date());
  }

  /** Entries added at run time: new rows become entries (armed by apply), removed or replaced ones are dropped. */
  private syncAdded(rows: EntryRow[]): void {
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const entry of [...this.entries.values()]) {
      const row = byName.get(entry.name);
      if (entry.origin !== "api" || (row && row.expression === entry.expression && row.tz === entry.tz)) continue;
      this.disarm(entry.name);
      this.entries.delete(entry.name);
      this.live.delete(entry.name);
    }
    for (const row of rows) {
      // A name declared in code on this node is that entry's (its declaration turns the row back to 'code').
      if (this.entries.has(row.name)) continue;
      let schedule: Cron;
      try {
        schedule = new Cron(row.expression!, { paused: true, timezone: row.tz! });
      } catch (error) {
        this.deps?.onError(`reading cron entry "${row.name}"`, error);
        continue;
      }
      const entry = this.addedEntry(row, schedule);
      this.entries.set(row.name, entry);
      // Armed by apply(): "paused" here differs from any row, so the first apply always arms (or holds) it.
      this.live.set(row.name, { paused: !row.paused, expression: row.expression!, schedule });
    }
  }

  private addedEntry(row: EntryRow, schedule: Cron): CronEntry {
    const name = row.name;
    return {
      name, expression: row.expression!, tz: row.tz!, catchUp: false, jobOptions: {}, schedule, origin: "api", stub: { id: row.task_id ?? "" },
      insert: async (client) => {
        const deps = this.deps!;
        const { rows } = await client.query(sql.insertRecordedJob(deps.quotedSchema), [name, deps.insertChannel]);
        if (!rows[0]) throw new Error(`cron entry "${name}" has no recorded job`);
        return { id: rows[0].id };
      },
    };
  }

  private track(promise: Promise<unknown>): void {
    this.inflight.add(promise);
    promise.catch(() => undefined).finally(() => this.inflight.delete(promise));
  }

  private arm(entry: CronEntry, after: Date): void {
    const live = this.live.get(entry.name);
    if (!this.deps || this.entries.get(entry.name) !== entry || !live || live.paused) return;
    const next = live.schedule.nextRun(after);
    if (!next) return;
    void this.deps.pool.query(sql.recordNextRun(this.deps.quotedSchema), [entry.name, next]).catch(() => undefined);
    const wait = next.getTime() - Date.now();
    const timer = setTimeout(() => {
      this.timers.delete(entry.name);
      if (wait > MAX_WAIT_MS) return this.arm(entry, after);
      // Re-armed only if still current: a refresh meanwhile armed the new expression itself.
      this.track(this.fire(entry, next, false).finally(() => this.live.get(entry.name) === live && this.arm(entry, next)));
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
        const expression = this.live.get(entry.name)?.expression ?? entry.expression;
        const live = entry.origin === "api" ? sql.claimApiTick : sql.claimLiveTick;
        const claimed = missed
          ? await client.query(sql.claimMissedTick(deps.quotedSchema), [entry.name, tick])
          : await client.query(live(deps.quotedSchema), [entry.name, tick, expression]);
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
    const schedule = this.live.get(entry.name)?.schedule ?? entry.schedule;
    for (let at: Date | null = schedule.nextRun(last), i = 0; at && at.getTime() <= now && i < MAX_CATCHUP_STEPS; at = schedule.nextRun(at), i++) missed = at;
    if (missed) await this.fire(entry, missed, true);
  }
}
