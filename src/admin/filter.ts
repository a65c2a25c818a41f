import { Cron } from "croner";
import { InvalidOptionError } from "../errors.js";
import { expandStates, JOB_STATES, STATE_GROUPS, type JobFilter } from "../reports/filter.js";

// Parsing helpers for the text inputs of the dashboard and the CLI. The
// filter itself is the reports' JobFilter, so "which jobs" means the same
// thing in the API, the dashboard and the CLI.

export { JOB_STATES, STATE_GROUPS, type JobFilter };
export const STATE_NAMES: readonly string[] = [...JOB_STATES, ...Object.keys(STATE_GROUPS)];

/** "failed,executing" → the states it names; unknown names throw with a suggestion. */
export function parseStates(text: string, option = "state"): string[] {
  const names = text.split(",").map((s) => s.trim()).filter(Boolean);
  return names.length ? expandStates(option, names) : [];
}

/** Parses "key=value" pairs (values as JSON when they parse, else strings) into a meta filter. */
export function parseMetaPairs(pairs: string[], option = "meta"): Record<string, unknown> | undefined {
  if (pairs.length === 0) return undefined;
  const meta: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidOptionError(option, `expected key=value like orgId=42, got ${JSON.stringify(pair)}.`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* a bare string */
    }
    meta[pair.slice(0, eq).trim()] = value;
  }
  return meta;
}

/** True when the filter selects something narrower than "every job". */
export function isScoped(filter: JobFilter): boolean {
  return Boolean(
    (filter.ids && filter.ids.length) || filter.id !== undefined || filter.state !== undefined || filter.queue !== undefined || filter.task !== undefined ||
      filter.meta || filter.tags?.length || filter.since || filter.until || filter.inserted || filter.completed || filter.waitingForNode !== undefined,
  );
}

/** True when `expression` is a valid cron expression that has no next run (like "0 0 31 2 *"); invalid ones are left to retime() to report. */
export function neverFires(expression: string, tz?: string): boolean {
  try {
    return new Cron(expression, { paused: true, ...(tz ? { timezone: tz } : {}) }).nextRun() === null;
  } catch {
    return false;
  }
}

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})(?=$|[T ])/;

/**
 * A date typed by an operator, or null when it is not one. `new Date()` rolls impossible days
 * over (2026-02-30 is March 2nd); a day past the end of its month is refused here instead.
 */
export function parseDateText(text: string): Date | null {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return null;
  const m = ISO_DAY.exec(text.trim());
  if (m) {
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  }
  return d;
}
