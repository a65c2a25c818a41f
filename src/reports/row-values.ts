import type { RecordedError } from "../errors.js";

// Rows as operators see them. A row is data, and data can be anything its
// column type allows (a bug, a manual UPDATE, an older version): an `errors`
// value that is not a list, a message that is an object, 'infinity' as a
// timestamp, megabytes of meta. These helpers turn every such value into
// something a page or a terminal can show, marked as what it is, so one bad
// row never takes a list down for everyone.

/** A timestamp column as pg returns it: a Date, or ±Infinity for 'infinity'. */
export type Timestamp = Date | number | null;

/** Longest text shown for one value; the rest is counted, not shown. */
export const SHOW_LIMIT = 100_000;

/** A value as text: strings as they are, anything else as JSON; cut at `limit` with a note. */
export function textOf(value: unknown, limit = SHOW_LIMIT, indent?: number): string {
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), indent) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > limit ? `${text.slice(0, limit)}… (${text.length - limit} more characters not shown)` : text;
}

/** A timestamp that can be placed on a clock, or null (missing, infinite or invalid). */
export function finiteDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value : null;
  if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) {
    const d = new Date(value);
    return Number.isFinite(d.getTime()) ? d : null;
  }
  return null;
}

/** ISO text for a timestamp; "infinity", "-infinity" or the raw text (marked) otherwise; "" when absent. */
export function timeText(value: unknown): string {
  if (value === null || value === undefined) return "";
  const d = finiteDate(value);
  if (d) return d.toISOString();
  if (value === Infinity || value === "infinity") return "infinity";
  if (value === -Infinity || value === "-infinity") return "-infinity";
  return `invalid time ${textOf(value, 80)}`;
}

const optionalText = (value: unknown, limit: number) => (value === undefined || value === null ? undefined : textOf(value, limit));

/** One entry of a job's `errors` list, whatever it holds, with every field as text. */
export function recordedError(raw: unknown, index: number): RecordedError {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { attempt: index + 1, at: "", message: `(not an error record: ${textOf(raw, 2_000)})` };
  }
  const e = raw as Record<string, unknown>;
  const attempt = typeof e.attempt === "number" && Number.isSafeInteger(e.attempt) ? e.attempt : index + 1;
  return {
    attempt,
    at: typeof e.at === "string" ? e.at : timeText(e.at),
    message: e.message === undefined || e.message === null ? "(no message)" : textOf(e.message, 10_000),
    name: optionalText(e.name, 200),
    stack: optionalText(e.stack, 20_000),
    code: optionalText(e.code, 200),
  };
}

/** A job's `errors` column: the list, and what was wrong with the column itself, if anything. */
export function recordedErrors(raw: unknown): { errors: RecordedError[]; problem: string | null } {
  if (raw === null || raw === undefined) return { errors: [], problem: null };
  if (!Array.isArray(raw)) return { errors: [], problem: `the errors column is not a list: ${textOf(raw, 2_000)}` };
  return { errors: raw.map(recordedError), problem: null };
}

/** The last error of a report row (`errors->-1`), normalized; null when there is none. */
export function lastErrorOf(raw: unknown): RecordedError | null {
  return raw === null || raw === undefined ? null : recordedError(raw, 0);
}
