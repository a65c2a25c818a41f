import { Cron } from "croner";
import { InvalidOptionError } from "../errors.js";
import { describe } from "../config/duration.js";
import type { TargetSource } from "../control/target.js";
import * as sql from "./queries.js";
import { cronSpec } from "./entry.js";
import type { JobRecorder } from "./recorded-job.js";
import type { TaskCatalog } from "../enqueue/index.js";
import type { TaskStub } from "../tasks/registry.js";

/** One cron entry as stored: declared in code, maybe paused or re-timed from the API, CLI or dashboard. */
export interface ScheduleInfo {
  name: string;
  /** "code": declared with durable.cron(); "api": added with durable.schedules.add(). */
  origin: "code" | "api";
  /** The expression in effect: the re-timed one, or the declared one. */
  expression: string;
  /** As declared in code (the latest node to start with it wrote it), or as added with add(). */
  declaredExpression: string;
  /** True when retime() replaced the declared expression. */
  retimed: boolean;
  tz: string;
  paused: boolean;
  task: string | null;
  /** The next tick, from the expression in effect (null while paused or when it never fires again). */
  nextRunAt: Date | null;
  lastTickAt: Date | null;
}

const NAME_RE = /^[A-Za-z0-9_.:#\/@<>-]{1,200}$/;

function entryName(name: unknown): string {
  if (typeof name !== "string" || !NAME_RE.test(name)) throw new InvalidOptionError("name", `expected a cron entry name (see durable.schedules.list()), got ${describe(name)}.`);
  return name;
}

function nextRun(expression: string, tz: string): Date | null {
  try {
    return new Cron(expression, { paused: true, timezone: tz }).nextRun();
  } catch {
    return null;
  }
}

/**
 * durable.schedules: the cron entries every node declared, listed with their
 * next run, and paused, resumed or re-timed cluster-wide. Stored in
 * cron_entries and announced on the control channel; each node re-arms its
 * timers on the notification (or its next refresh), and a node that has not
 * yet neither fires a paused entry nor an old expression (the tick's claim
 * checks both). An entry is created by the code that declares it, or at
 * run time by add() (then removable with remove()).
 */
export class ScheduleControls {
  constructor(
    private readonly target: TargetSource,
    private readonly recorder?: { record: JobRecorder; catalog: () => TaskCatalog },
  ) {}

  /**
   * Creates (or replaces) an entry at run time: `fn` runs now, once, and its
   * durable.async() call is recorded, not inserted; every node that runs jobs
   * arms the entry on its next refresh (at once on the notification) and the
   * node that wins a tick inserts a copy of the recorded job.
   */
  add(name: string, expression: string, fn: () => unknown, options: { tz?: string } = {}): Promise<ScheduleInfo> {
    entryName(name);
    if (options === null || typeof options !== "object" || Object.keys(options).some((k) => k !== "tz")) {
      throw new InvalidOptionError("options", `expected { tz?: "Europe/Paris" }; job options go in the durable.async() call inside fn, got ${describe(options)}.`);
    }
    const spec = cronSpec(expression, { name, tz: options.tz ?? "UTC" }, name);
    if (!this.recorder) throw new InvalidOptionError("fn", "this instance cannot record jobs; call durable.schedules.add() on a started durable instance.");
    const job = this.recorder.record(fn);
    return this.insertEntry(spec.name, spec.expression, spec.tz, job.stub, job.document, nextRun(spec.expression, spec.tz));
  }

  private async insertEntry(name: string, expression: string, tz: string, stub: TaskStub, document: string, next: Date | null): Promise<ScheduleInfo> {
    const t = await this.target();
    await this.recorder!.catalog().ensure(t.pool, [stub]);
    const { rowCount } = await t.pool.query(sql.upsertApiEntry(t.quotedSchema), [name, expression, tz, stub.id, document, t.channels.control, next]);
    if (rowCount !== 1) {
      throw new InvalidOptionError("name", `"${name}" is a cron entry declared in code with durable.cron(); schedules.add() cannot replace it. Pick another name, or change that entry with pause/resume/retime.`);
    }
    return (await this.list()).find((s) => s.name === name)!;
  }

  /** Deletes an entry added with add() (and its tick history); entries declared in code are refused. */
  async remove(name: string): Promise<void> {
    entryName(name);
    const t = await this.target();
    const { rows } = await t.pool.query(sql.deleteApiEntry(t.quotedSchema), [name, t.channels.control]);
    if (rows[0]?.deleted === 1) return;
    if (rows[0]?.origin === "code") {
      throw new InvalidOptionError("name", `"${name}" is declared in code with durable.cron(); remove that call (or pause the entry with durable.schedules.pause()). Only entries added with durable.schedules.add() can be removed.`);
    }
    throw new InvalidOptionError("name", `no cron entry is named "${name}"; see durable.schedules.list().`);
  }

  async list(): Promise<ScheduleInfo[]> {
    const t = await this.target();
    const { rows } = await t.pool.query(sql.listEntries(t.quotedSchema));
    return rows.map((r) => {
      const expression = r.override_expression ?? r.expression;
      return {
        name: r.name, origin: r.origin, expression, declaredExpression: r.expression, retimed: r.override_expression !== null, tz: r.tz, paused: r.paused,
        task: r.task_id, nextRunAt: r.paused ? null : nextRun(expression, r.tz), lastTickAt: r.last_tick,
      };
    });
  }

  /** No node fires the entry until resume(); ticks meanwhile are skipped, not caught up. */
  pause(name: string): Promise<ScheduleInfo> {
    return this.change(name, "pause", null);
  }

  resume(name: string): Promise<ScheduleInfo> {
    return this.change(name, "resume", null);
  }

  /** Runs the entry on `expression` (in its time zone) from now on, on every node; null goes back to the one in code. */
  retime(name: string, expression: string | null): Promise<ScheduleInfo> {
    if (expression !== null) {
      if (typeof expression !== "string" || expression.trim() === "") {
        throw new InvalidOptionError("expression", `expected a cron expression like "*/5 * * * *", or null for the one declared in code, got ${describe(expression)}.`);
      }
      try {
        new Cron(expression, { paused: true }).nextRun();
      } catch (error) {
        throw new InvalidOptionError("expression", `${JSON.stringify(expression)} is not a cron expression (${(error as Error).message}). Use 5 fields ("*/5 * * * *"), 6 with seconds first, or "@hourly".`);
      }
    }
    return this.change(name, "retime", expression);
  }

  private async change(name: string, change: "pause" | "resume" | "retime", expression: string | null): Promise<ScheduleInfo> {
    entryName(name);
    const t = await this.target();
    const current = (await this.list()).find((s) => s.name === name);
    if (!current) {
      throw new InvalidOptionError("name", `no cron entry is named "${name}". Entries are created by durable.cron() in code when a node starts, or by durable.schedules.add(); see durable.schedules.list().`);
    }
    const effective = change === "retime" ? (expression ?? current.declaredExpression) : current.expression;
    await t.pool.query(sql.changeEntry(t.quotedSchema), [name, change, expression, nextRun(effective, current.tz), t.channels.control]);
    return (await this.list()).find((s) => s.name === name)!;
  }
}
