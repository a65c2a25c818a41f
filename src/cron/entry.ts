import { Cron } from "croner";
import { InvalidOptionError } from "../errors.js";
import { describe } from "../config/duration.js";
import type { AsyncOptions } from "../config/options.js";

/** Options of durable.cron: the entry's own, plus any job option of durable.async except the ones that need a caller. */
export interface CronOptions extends Omit<AsyncOptions, "client" | "delay" | "at" | "debounce" | "expiresAt"> {
  /** The entry's stable name (default: the task id). One job per (name, tick) across all nodes. */
  name?: string;
  /** IANA time zone the expression is read in (default "UTC"). */
  tz?: string;
  /** On start, enqueue the latest tick missed while no node ran (at most one). Default false. */
  catchUp?: boolean;
}

export interface CronSpec {
  name: string;
  expression: string;
  tz: string;
  catchUp: boolean;
  /** Job options to validate as durable.async's. */
  jobOptions: AsyncOptions;
  schedule: Cron;
}

const NAME_RE = /^[A-Za-z0-9_.:#\/@<>-]{1,200}$/;
const NOT_FOR_CRON: Record<string, string> = {
  client: "a cron job is not inserted inside a caller's transaction",
  delay: "the expression decides when the job runs",
  at: "the expression decides when the job runs",
  debounce: "the expression decides when the job runs",
  expiresAt: "a fixed date would expire every later tick; use `deadline`, counted from each tick",
};

/** Validates the expression, time zone and entry options; job options are validated by the caller like durable.async's. */
export function cronSpec(expression: unknown, options: unknown, defaultName: string): CronSpec {
  if (typeof expression !== "string" || expression.trim() === "") {
    throw new InvalidOptionError("expression", `expected a cron expression like "*/5 * * * *" or "@daily", got ${describe(expression)}.`);
  }
  if (options === undefined || options === null) options = {};
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new InvalidOptionError("options", `expected an object like { name: "bloodwork", tz: "UTC" }, got ${describe(options)}.`);
  }
  const { name = defaultName, tz = "UTC", catchUp = false, ...jobOptions } = options as CronOptions & Record<string, unknown>;
  for (const [key, why] of Object.entries(NOT_FOR_CRON)) {
    if (key in jobOptions) throw new InvalidOptionError(key, `is not an option of durable.cron: ${why}. Remove it.`);
  }
  if (typeof name !== "string" || !NAME_RE.test(name)) {
    throw new InvalidOptionError("name", `expected a stable entry name of letters, digits and _ . : # / @ - (1-200 chars), got ${describe(name)}.`);
  }
  if (typeof catchUp !== "boolean") throw new InvalidOptionError("catchUp", `expected true or false, got ${describe(catchUp)}.`);
  if (typeof tz !== "string") throw new InvalidOptionError("tz", `expected an IANA time zone like "Europe/Paris" or "UTC", got ${describe(tz)}.`);
  let schedule: Cron;
  try {
    schedule = new Cron(expression, { paused: true, timezone: tz });
    schedule.nextRun();
  } catch (error) {
    const message = (error as Error).message;
    if (/time ?zone/i.test(message)) throw new InvalidOptionError("tz", `${JSON.stringify(tz)} is not a time zone. Use an IANA name like "Europe/Paris", "America/New_York" or "UTC".`);
    throw new InvalidOptionError("expression", `${JSON.stringify(expression)} is not a cron expression (${message}). Use 5 fields ("*/5 * * * *"), 6 with seconds first, or a shortcut like "@hourly" or "@daily".`);
  }
  return { name, expression, tz, catchUp, jobOptions: { ...jobOptions, name } as AsyncOptions, schedule };
}
