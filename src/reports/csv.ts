import { Readable } from "node:stream";
import { InvalidOptionError } from "../errors.js";
import { describe } from "../config/duration.js";
import { didYouMean } from "../config/suggest.js";
import type { DurableTarget } from "../control/target.js";
import { normalizeFilter, type JobFilter } from "./filter.js";
import { streamJobs, type JobRecord } from "./jobs.js";

export const CSV_COLUMNS = [
  "id", "state", "queue", "task", "attempt", "max_attempts", "priority", "inserted_at", "run_at", "attempted_at",
  "completed_at", "discarded_at", "cancelled_at", "finished_at", "meta", "tags", "last_error",
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

const cellOf: Record<CsvColumn, (j: JobRecord) => unknown> = {
  id: (j) => j.id, state: (j) => j.state, queue: (j) => j.queue, task: (j) => j.task, attempt: (j) => j.attempt,
  max_attempts: (j) => j.maxAttempts, priority: (j) => j.priority, inserted_at: (j) => j.insertedAt, run_at: (j) => j.runAt,
  attempted_at: (j) => j.attemptedAt, completed_at: (j) => j.completedAt, discarded_at: (j) => j.discardedAt,
  cancelled_at: (j) => j.cancelledAt, finished_at: (j) => j.finishedAt, meta: (j) => j.meta, tags: (j) => j.tags.join(" "),
  last_error: (j) => j.lastError?.message ?? null,
};

/**
 * One RFC 4180 cell. Text that a spreadsheet would run as a formula
 * (=, +, -, @ first) gets a leading apostrophe: job data is user data.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  let text = value instanceof Date ? value.toISOString() : typeof value === "object" ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvLine = (cells: unknown[]): string => cells.map(csvCell).join(",") + "\r\n";

export function csvColumns(columns: unknown): CsvColumn[] {
  if (columns === undefined) return [...CSV_COLUMNS];
  if (!Array.isArray(columns) || columns.length === 0) throw new InvalidOptionError("columns", `expected a non-empty array of column names like ["id", "state"], got ${describe(columns)}.`);
  for (const c of columns) {
    if (!(CSV_COLUMNS as readonly string[]).includes(c)) throw new InvalidOptionError("columns", `unknown column ${describe(c)}.${typeof c === "string" ? didYouMean(c, CSV_COLUMNS) : ""}`);
  }
  return columns as CsvColumn[];
}

async function* csvLines(source: DurableTarget | (() => Promise<DurableTarget>), filter: JobFilter, columns: CsvColumn[], batchSize: number): AsyncGenerator<string> {
  const t = typeof source === "function" ? await source() : source;
  yield csvLine(columns);
  // Lines are joined per page: one chunk per page keeps stream overhead low without buffering more than a page.
  let chunk: string[] = [];
  for await (const job of streamJobs(t, filter, { batchSize })) {
    chunk.push(csvLine(columns.map((c) => cellOf[c](job))));
    if (chunk.length >= batchSize) {
      yield chunk.join("");
      chunk = [];
    }
  }
  if (chunk.length) yield chunk.join("");
}

/** The filter's jobs as CSV, streamed with backpressure: pipe it to a file or an HTTP response. */
export function jobsCsv(t: DurableTarget | (() => Promise<DurableTarget>), filter: JobFilter = {}, options: { columns?: CsvColumn[]; batchSize?: number } = {}): Readable {
  const columns = csvColumns(options.columns);
  normalizeFilter(filter); // throw bad filters here, not as a stream error
  return Readable.from(csvLines(t, filter, columns, options.batchSize ?? 1_000), { objectMode: false });
}
