import { Readable } from "node:stream";
import { InvalidOptionError } from "../errors.js";
import { describe } from "../config/duration.js";
import { didYouMean } from "../contract/index.js";
import type { DurableTarget } from "../control/target.js";
import { normalizeFilter, type JobFilter } from "./filter.js";
import { filterWhere } from "./filter-sql.js";
import { csvPage } from "./queries.js";

export const CSV_COLUMNS = [
  "id", "state", "queue", "task", "attempt", "max_attempts", "priority", "inserted_at", "run_at", "attempted_at",
  "completed_at", "discarded_at", "cancelled_at", "finished_at", "meta", "tags", "last_error",
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

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
  const f = normalizeFilter(filter);
  yield csvLine(columns);
  // One chunk per keyset page: memory holds one page, however many rows match.
  for (let after: string | null = null; ; ) {
    const params: unknown[] = [];
    const where = filterWhere(f, params, undefined, t.quotedSchema);
    if (after !== null) params.push(after);
    params.push(batchSize);
    const { rows } = await t.pool.query({
      text: csvPage(t.quotedSchema, columns, where, after === null ? null : `$${params.length - 1}`, `$${params.length}`),
      values: params,
      rowMode: "array",
    });
    if (rows.length === 0) return;
    let chunk = "";
    for (const row of rows as unknown[][]) chunk += csvLine(row.slice(0, -1));
    yield chunk;
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1]![columns.length] as string;
  }
}

/** The filter's jobs as CSV, streamed with backpressure: pipe it to a file or an HTTP response. */
export function jobsCsv(t: DurableTarget | (() => Promise<DurableTarget>), filter: JobFilter = {}, options: { columns?: CsvColumn[]; batchSize?: number } = {}): Readable {
  const columns = csvColumns(options.columns);
  normalizeFilter(filter); // throw bad filters here, not as a stream error
  const batchSize = options.batchSize ?? 2_000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new InvalidOptionError("batchSize", `expected an integer from 1 to 10000, got ${describe(batchSize)}.`);
  return Readable.from(csvLines(t, filter, columns, batchSize), { objectMode: false });
}
