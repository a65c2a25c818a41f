import { InvalidOptionError } from "../errors.js";
import { describe } from "../config/duration.js";
import { assertStorableText } from "../config/text.js";
import type { DurableTarget } from "../control/target.js";
import { normalizeFilter, type JobFilter, type JobState } from "./filter.js";
import { filterWhere } from "./filter-sql.js";
import { csvLine } from "./csv.js";
import * as sql from "./queries.js";

export interface MetaReportOptions {
  /** The meta key to group by, e.g. "orgId". */
  by: string;
  /** Which jobs: task, queue, time range (inserted / since / until), … */
  filter?: JobFilter;
}

export interface MetaReportRow {
  /** The meta value (as text); null for jobs without the key. */
  key: string | null;
  sent: number;
  failed: number;
  pending: number;
  executing: number;
  total: number;
  /** Counts per individual state. */
  states: Record<JobState, number>;
}

/**
 * The report's columns are the state groups of filter.ts, plus executing,
 * which belongs to none: in progress, as a job waiting for its steps is.
 */
const GROUP_OF: Record<JobState, "sent" | "failed" | "pending" | "executing"> = {
  completed: "sent", discarded: "failed", cancelled: "failed", available: "pending", scheduled: "pending", retryable: "pending", executing: "executing", waiting: "executing",
};

/**
 * Counts per meta value × state: "messages per org by status" for a time
 * range. One grouped query; the pivot to sent/failed/pending happens here.
 */
export async function reportByMeta(t: DurableTarget, options: MetaReportOptions): Promise<MetaReportRow[]> {
  if (typeof options !== "object" || options === null) throw new InvalidOptionError("options", `expected { by: "orgId", filter }, got ${describe(options)}.`);
  if (typeof options.by !== "string" || options.by.length === 0) {
    throw new InvalidOptionError("by", `expected the meta key to group by, like "orgId", got ${describe(options.by)}.`);
  }
  assertStorableText("by", options.by);
  const params: unknown[] = [];
  const where = filterWhere(normalizeFilter(options.filter ?? {}), params, undefined, t.quotedSchema);
  params.push(options.by);
  const { rows } = await t.pool.query(sql.countByMetaAndState(t.quotedSchema, where, `$${params.length}::text`), params);
  const byKey = new Map<string | null, MetaReportRow>();
  for (const r of rows) {
    let row = byKey.get(r.key);
    if (!row) {
      row = { key: r.key, sent: 0, failed: 0, pending: 0, executing: 0, total: 0, states: { available: 0, scheduled: 0, executing: 0, retryable: 0, waiting: 0, completed: 0, discarded: 0, cancelled: 0 } };
      byKey.set(r.key, row);
    }
    const n = Number(r.n);
    row.states[r.state as JobState] += n;
    row[GROUP_OF[r.state as JobState]] += n;
    row.total += n;
  }
  return [...byKey.values()];
}

/** The same report as CSV: `<by>,sent,failed,pending,executing,total`, one line per meta value. */
export async function reportByMetaCsv(t: DurableTarget, options: MetaReportOptions): Promise<string> {
  const rows = await reportByMeta(t, options);
  return csvLine([options.by, "sent", "failed", "pending", "executing", "total"]) + rows.map((r) => csvLine([r.key, r.sent, r.failed, r.pending, r.executing, r.total])).join("");
}
