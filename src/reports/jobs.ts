import type { RecordedError } from "../errors.js";
import { InvalidOptionError } from "../errors.js";
import { describe } from "../config/duration.js";
import { isJobId } from "../config/job-id.js";
import type { DurableTarget } from "../control/target.js";
import { normalizeFilter, type JobFilter, type JobState } from "./filter.js";
import { filterWhere } from "./filter-sql.js";
import * as sql from "./queries.js";
import { lastErrorOf } from "./row-values.js";

/** One job as reports show it (captures and results stay out: they can be large, encrypted, or personal). */
export interface JobRecord {
  id: string;
  state: JobState;
  queue: string;
  task: string;
  attempt: number;
  maxAttempts: number;
  priority: number;
  meta: Record<string, unknown>;
  tags: string[];
  insertedAt: Date;
  runAt: Date;
  attemptedAt: Date | null;
  completedAt: Date | null;
  discardedAt: Date | null;
  cancelledAt: Date | null;
  finishedAt: Date | null;
  lastError: RecordedError | null;
}

export interface PageOptions {
  /** Rows per page, 1 to 1000 (default 50). */
  limit?: number;
  /** The `next` cursor of the previous page. */
  after?: string | null;
  /** By id: "desc" (newest first, default) or "asc". */
  order?: "asc" | "desc";
}

export interface JobPage {
  jobs: JobRecord[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

export function toRecord(r: any): JobRecord {
  return {
    id: r.id, state: r.state, queue: r.queue, task: r.task_id, attempt: r.attempt, maxAttempts: r.max_attempts, priority: r.priority,
    meta: r.meta, tags: r.tags, insertedAt: r.inserted_at, runAt: r.run_at, attemptedAt: r.attempted_at, completedAt: r.completed_at,
    discardedAt: r.discarded_at, cancelledAt: r.cancelled_at, finishedAt: r.finished_at, lastError: lastErrorOf(r.last_error),
  };
}

function pageOptions(page: unknown, maxLimit: number, defaultLimit: number) {
  if (page === undefined || page === null) page = {};
  if (typeof page !== "object" || Array.isArray(page)) throw new InvalidOptionError("page", `expected { limit, after, order }, got ${describe(page)}.`);
  const p = page as PageOptions;
  const limit = p.limit ?? defaultLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) throw new InvalidOptionError("limit", `expected an integer from 1 to ${maxLimit}, got ${describe(limit)}.`);
  const order = p.order ?? "desc";
  if (order !== "asc" && order !== "desc") throw new InvalidOptionError("order", `expected "asc" or "desc", got ${describe(order)}.`);
  const after = p.after ?? null;
  if (after !== null && !isJobId(after)) {
    throw new InvalidOptionError("after", `expected the \`next\` cursor of a previous page (a job id), got ${describe(after)}.`);
  }
  return { limit, order, after };
}

async function page(t: DurableTarget, filter: ReturnType<typeof normalizeFilter>, limit: number, order: "asc" | "desc", after: string | null): Promise<JobPage> {
  const params: unknown[] = [];
  const where = filterWhere(filter, params, undefined, t.quotedSchema);
  let afterParam: string | null = null;
  if (after !== null) {
    params.push(after);
    afterParam = `$${params.length}`;
  }
  params.push(limit);
  const { rows } = await t.pool.query(sql.listJobs(t.quotedSchema, where, afterParam, `$${params.length}`, order), params);
  const jobs = rows.map(toRecord);
  return { jobs, next: jobs.length === limit ? jobs[jobs.length - 1]!.id : null };
}

/** One page of matching jobs, newest first by default. */
export function listJobs(t: DurableTarget, filter: JobFilter = {}, options: PageOptions = {}): Promise<JobPage> {
  const f = normalizeFilter(filter);
  const { limit, order, after } = pageOptions(options, 1_000, 50);
  return page(t, f, limit, order, after);
}

/**
 * Every matching job, one keyset page at a time: memory stays at one page
 * however many rows match, and no transaction or cursor is held open
 * between pages. Jobs inserted while streaming may or may not be included.
 */
export async function* streamJobs(t: DurableTarget, filter: JobFilter = {}, options: { batchSize?: number; order?: "asc" | "desc" } = {}): AsyncGenerator<JobRecord> {
  const f = normalizeFilter(filter);
  const { limit, order } = pageOptions({ limit: options.batchSize ?? 1_000, order: options.order ?? "asc" }, 10_000, 1_000);
  let after: string | null = null;
  for (;;) {
    const result: JobPage = await page(t, f, limit, order, after);
    for (const job of result.jobs) yield job;
    if (!result.next) return;
    after = result.next;
  }
}

export async function countJobs(t: DurableTarget, filter: JobFilter = {}): Promise<number> {
  const params: unknown[] = [];
  const where = filterWhere(normalizeFilter(filter), params, undefined, t.quotedSchema);
  const { rows } = await t.pool.query(sql.countJobs(t.quotedSchema, where), params);
  return Number(rows[0].n);
}

/** Matching jobs per state (states without jobs are 0). */
export async function countJobsByState(t: DurableTarget, filter: JobFilter = {}): Promise<Record<JobState, number>> {
  const params: unknown[] = [];
  const where = filterWhere(normalizeFilter(filter), params, undefined, t.quotedSchema);
  const { rows } = await t.pool.query(sql.countByState(t.quotedSchema, where), params);
  const counts: Record<JobState, number> = { available: 0, scheduled: 0, executing: 0, retryable: 0, waiting: 0, completed: 0, discarded: 0, cancelled: 0 };
  for (const r of rows) counts[r.state as JobState] = Number(r.n);
  return counts;
}
