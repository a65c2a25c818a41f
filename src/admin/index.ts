import type pg from "pg";
import { quoteSchema } from "../db/schema.js";
import { isEncrypted } from "../serialize/encryption.js";
import type { RecordedError } from "../errors.js";
import * as sql from "./queries.js";
import * as actions from "./actions.js";
import { filterSql, type JobFilter } from "./filter.js";

export { JOB_STATES, STATE_GROUPS, normalizeStates, parseMetaPairs, type JobFilter, type JobState } from "./filter.js";
export type { Progress } from "./actions.js";

// The operator surface's one data API: the dashboard and the CLI both call
// these methods and never hold SQL of their own. Writes go through
// ./actions.ts; when the queue-control and report modules of durable.jobs /
// durable.queues expose the same operations, these delegate to them.

export interface QueueSummary {
  name: string;
  counts: Record<string, number>;
  paused: boolean;
  pausedUntil: Date | null;
  /** Concurrency set with scale(); null means each node's own setting. */
  concurrency: number | null;
  /** Sum of the per-node limits of live nodes serving this queue. */
  nodeConcurrency: number;
  globalConcurrency: number | null;
  rateLimit: { allowed: number; periodMs: number } | null;
}

export interface NodeSummary {
  nodeId: string;
  nodeTypes: string[];
  queues: Record<string, number>;
  taskIds: string[];
  hostname: string;
  pid: number;
  startedAt: Date;
  heartbeatAgeS: number;
  alive: boolean;
}

export interface TaskSummary {
  taskId: string;
  bodyHash: string;
  caller: { file: string; fn: string | null; line: number; column: number };
  source: string;
  captureNames: string[];
  kind: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  nodeIds: string[];
}

export interface JobRowView {
  id: string;
  state: string;
  queue: string;
  task_id: string;
  body_hash: string;
  priority: number;
  attempt: number;
  max_attempts: number;
  meta: Record<string, unknown>;
  tags: string[];
  progress: { fraction?: number; done?: number; total?: number; message?: string; at?: string } | null;
  node_id: string | null;
  run_at: Date;
  inserted_at: Date;
  attempted_at: Date | null;
  completed_at: Date | null;
  discarded_at: Date | null;
  cancelled_at: Date | null;
  finished_at: Date | null;
  last_error?: string | null;
}

export interface JobDetail extends JobRowView {
  captures: DisplayValue;
  result: DisplayValue | null;
  errors: RecordedError[];
  trace: unknown;
  caller: { file: string; fn: string | null; line: number; column: number } | null;
  source: string | null;
  captureNames: string[];
}

/** A stored value as operators may see it: plain JSON, or redacted when sealed with a key. */
export type DisplayValue = { kind: "value"; value: unknown } | { kind: "encrypted"; keyId: string };

export function displayValue(stored: unknown): DisplayValue {
  if (isEncrypted(stored)) return { kind: "encrypted", keyId: String(stored.kid) };
  if (stored && typeof stored === "object" && "json" in stored) return { kind: "value", value: (stored as { json: unknown }).json };
  return { kind: "value", value: stored };
}

export interface Page {
  limit?: number;
  offset?: number;
}

export class Admin {
  readonly q: string;
  constructor(readonly pool: pg.Pool, readonly schema: string) {
    this.q = quoteSchema(schema);
  }

  private get target() {
    return { pool: this.pool, q: this.q, schema: this.schema };
  }

  async queues(): Promise<QueueSummary[]> {
    const [counts, controls, nodes] = await Promise.all([
      this.pool.query(sql.queueCounts(this.q)),
      this.pool.query(sql.queueControls(this.q)),
      this.nodes(),
    ]);
    const byName = new Map<string, QueueSummary>();
    const get = (name: string) => {
      let s = byName.get(name);
      if (!s) {
        s = { name, counts: {}, paused: false, pausedUntil: null, concurrency: null, nodeConcurrency: 0, globalConcurrency: null, rateLimit: null };
        byName.set(name, s);
      }
      return s;
    };
    for (const row of counts.rows) get(row.queue).counts[row.state] = (get(row.queue).counts[row.state] ?? 0) + row.count;
    for (const row of controls.rows) {
      const s = get(row.name);
      const until: Date | null = row.paused_until;
      s.paused = Boolean(row.paused) && (until === null || until > new Date());
      s.pausedUntil = s.paused ? until : null;
      s.concurrency = row.concurrency;
      s.globalConcurrency = row.global_concurrency;
      s.rateLimit = row.rate_limit_allowed ? { allowed: row.rate_limit_allowed, periodMs: row.rate_limit_period_ms } : null;
    }
    for (const node of nodes) {
      if (!node.alive) continue;
      for (const [queue, limit] of Object.entries(node.queues)) get(queue).nodeConcurrency += Number(limit) || 0;
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async nodes(): Promise<NodeSummary[]> {
    const { rows } = await this.pool.query(sql.nodes(this.q));
    return rows.map((r) => ({
      nodeId: r.node_id, nodeTypes: r.node_types, queues: r.queues ?? {}, taskIds: r.task_ids, hostname: r.hostname, pid: r.pid,
      startedAt: r.started_at, heartbeatAgeS: Number(r.heartbeat_age_s), alive: r.alive,
    }));
  }

  /** Finished jobs per minute over the last hour: [{ minute, completed, failed }], oldest first, 60 buckets. */
  async throughput(): Promise<Array<{ minute: number; completed: number; failed: number }>> {
    const { rows } = await this.pool.query(sql.throughput(this.q));
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const buckets = Array.from({ length: 60 }, (_, i) => ({ minute: now - (59 - i) * 60_000, completed: 0, failed: 0 }));
    const index = new Map(buckets.map((b, i) => [b.minute, i]));
    for (const r of rows) {
      const i = index.get(Number(r.minute));
      if (i === undefined) continue;
      if (r.state === "completed") buckets[i]!.completed += r.count;
      else buckets[i]!.failed += r.count;
    }
    return buckets;
  }

  async tasks(): Promise<TaskSummary[]> {
    const { rows } = await this.pool.query(sql.tasks(this.q));
    return rows.map((r) => ({
      taskId: r.task_id, bodyHash: r.body_hash, caller: { file: r.file, fn: r.fn, line: r.line, column: r.col }, source: r.source,
      captureNames: r.capture_names, kind: r.kind, firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at, nodeIds: r.node_ids,
    }));
  }

  async job(id: string): Promise<JobDetail | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    const { rows } = await this.pool.query(sql.jobDetail(this.q), [id]);
    const r = rows[0];
    if (!r) return null;
    const { file, fn, line, col, source, capture_names, captures, result, errors, ...rest } = r;
    return {
      ...rest,
      captures: displayValue(captures),
      result: result === null ? null : displayValue(result),
      errors: errors ?? [],
      caller: file ? { file, fn, line, column: col } : null,
      source: source ?? null,
      captureNames: capture_names ?? [],
    };
  }

  async list(filter: JobFilter, page: Page = {}): Promise<JobRowView[]> {
    const params: unknown[] = [];
    const where = filterSql(filter, params);
    params.push(Math.min(Math.max(page.limit ?? 50, 1), 1000), Math.max(page.offset ?? 0, 0));
    const { rows } = await this.pool.query(sql.listJobs(this.q, where, `$${params.length - 1}`, `$${params.length}`), params);
    return rows;
  }

  async count(filter: JobFilter): Promise<number> {
    const params: unknown[] = [];
    const { rows } = await this.pool.query(sql.countJobs(this.q, filterSql(filter, params)), params);
    return rows[0].count;
  }

  /** Every matching job, newest first, in batches of `batch` rows; memory stays flat. */
  async *stream(filter: JobFilter, batch = 500): AsyncGenerator<JobRowView & { captures: DisplayValue; result: DisplayValue | null; errors: RecordedError[] }> {
    let after = "9223372036854775807";
    for (;;) {
      const params: unknown[] = [];
      const where = filterSql(filter, params);
      params.push(after, batch);
      const { rows } = await this.pool.query(sql.exportBatch(this.q, where, `$${params.length - 1}::bigint`, `$${params.length}`), params);
      for (const r of rows) yield { ...r, captures: displayValue(r.captures), result: r.result === null ? null : displayValue(r.result) };
      if (rows.length < batch) return;
      after = rows[rows.length - 1].id;
    }
  }

  retry(filter: JobFilter, onProgress?: actions.Progress) {
    return actions.retryJobs(this.target, filter, onProgress);
  }
  cancel(filter: JobFilter, onProgress?: actions.Progress) {
    return actions.cancelJobs(this.target, filter, onProgress);
  }
  delete(filter: JobFilter, onProgress?: actions.Progress) {
    return actions.deleteJobs(this.target, filter, onProgress);
  }
  pause(queue: string, forMs?: number) {
    return actions.pauseQueue(this.target, queue, forMs);
  }
  resume(queue: string) {
    return actions.resumeQueue(this.target, queue);
  }
  scale(queue: string, concurrency: number) {
    return actions.scaleQueue(this.target, queue, concurrency);
  }
}
