import type pg from "pg";
import type { Readable } from "node:stream";
import { QueueControls, cancelJobs, deleteJobs, retryJobs, type DurableTarget, type QueueInfo } from "../control/index.js";
import { ScheduleControls } from "../cron/schedules.js";
import { channels, quoteSchema } from "../db/schema.js";
import type { RecordedError } from "../errors.js";
import { countJobs, jobsCsv, listJobs, recordedErrors, streamJobs, type JobFilter, type JobRecord, type JobState } from "../reports/index.js";
import { isEncrypted } from "../serialize/encryption.js";
import { isJobId } from "../config/job-id.js";
import * as sql from "./queries.js";
import { OPERATION_STATES } from "../jobs/states.js";
import { NodesApi } from "../nodes/index.js";
import { waitingAmong, waitingReason, type WaitingReason } from "../nodes/live.js";
import { stepTree, type StepTree } from "../steps/tree.js";
import { latestVersion, schemaVersion } from "../db/migrate.js";
import { InvalidOptionError, SchemaNewerError } from "../errors.js";
import { didYouMean, knownNodeTypes } from "../contract/index.js";

export { JOB_STATES, STATE_GROUPS, STATE_NAMES, isScoped, neverFires, parseDateText, parseMetaPairs, parseStates, type JobFilter } from "./filter.js";

// The operator surface's one data API: the dashboard and the CLI call these
// methods. Lists, counts, exports and every write go to the reports and
// control modules behind durable.jobs / durable.queues; only views those do
// not offer (nodes, tasks, throughput, one job in full) query here.

export type Progress = { fraction?: number; done?: number; total?: number; message?: string; at?: string } | null;

export interface QueueSummary extends QueueInfo {}

export interface NodeSummary {
  nodeId: string;
  nodeTypes: string[];
  queues: Record<string, number>;
  taskIds: string[];
  hostname: string;
  pid: number;
  startedAt: Date;
  /** Seconds since the last heartbeat; null when the row's heartbeat time is not a finite time. */
  heartbeatAgeS: number | null;
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

export type { WaitingReason };

/** A report row plus its progress, and why it waits when no live node can run it, for list views. */
export interface JobView extends JobRecord {
  progress: Progress;
  waitingFor: WaitingReason | null;
}

/** A stored value as operators may see it: plain JSON, or redacted when sealed with a key. */
export type DisplayValue = { kind: "value"; value: unknown } | { kind: "encrypted"; keyId: string };

export function displayValue(stored: unknown): DisplayValue {
  if (isEncrypted(stored)) return { kind: "encrypted", keyId: String(stored.kid) };
  if (stored && typeof stored === "object" && "json" in stored) return { kind: "value", value: (stored as { json: unknown }).json };
  return { kind: "value", value: stored };
}

export interface JobDetail {
  id: string;
  state: JobState;
  queue: string;
  task_id: string;
  body_hash: string;
  priority: number;
  attempt: number;
  max_attempts: number;
  meta: Record<string, unknown>;
  tags: string[];
  progress: Progress;
  node_id: string | null;
  run_at: Date;
  inserted_at: Date;
  attempted_at: Date | null;
  completed_at: Date | null;
  discarded_at: Date | null;
  cancelled_at: Date | null;
  finished_at: Date | null;
  /** The deadline: not started by then, the job is discarded. */
  expires_at: Date | null;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  /** Whether an onDiscard hook job is recorded (its captures are not shown). */
  has_discard_hook: boolean;
  captures: DisplayValue;
  result: DisplayValue | null;
  errors: RecordedError[];
  /** What is wrong with the errors column itself (not a list), for display; null when it is fine. */
  errorsProblem: string | null;
  trace: unknown;
  caller: { file: string; fn: string | null; line: number; column: number } | null;
  source: string | null;
  captureNames: string[];
  /** Due, and no live node can run it: what it waits for. */
  waitingFor: WaitingReason | null;
  /** Durable steps: its parent, what it waits for, its journal (src/steps/tree.ts). */
  steps: StepTree;
}

/** Which states each bulk operation touches (the control module's own list), for progress counting. */
const TOUCHES: Record<"retry" | "cancel" | "delete", readonly JobState[]> = OPERATION_STATES;

export class Admin {
  readonly target: DurableTarget;
  private readonly controls: QueueControls;
  /** Cron entries as stored: list, pause, resume, retime (the same API as durable.schedules). */
  readonly schedules: ScheduleControls;
  /** Nodes by build; drain and undrain a build. */
  readonly builds: NodesApi;

  constructor(readonly pool: pg.Pool, readonly schema: string) {
    this.target = { pool, quotedSchema: quoteSchema(schema), channels: channels(schema) };
    this.controls = new QueueControls(async () => this.target);
    this.schedules = guardWrites(new ScheduleControls(async () => this.target), ["add", "pause", "resume", "retime", "remove"], () => this.writable());
    this.builds = guardWrites(new NodesApi(async () => this.target), ["drain", "undrain"], () => this.writable());
  }

  /**
   * Writes refuse a schema newer than this package, as migrate and workers do: an older admin
   * would write rows the newer code does not expect. Checked on every write (a long-running
   * dashboard may see the schema upgraded under it); reads go on.
   */
  async writable(): Promise<void> {
    const current = await schemaVersion(this.pool, this.schema);
    const latest = latestVersion();
    if (current > latest) throw new SchemaNewerError(this.schema, current, latest);
  }

  /**
   * Why `queue` looks like a typo, or null when some live node serves it, it holds jobs or it
   * has settings. Pause, resume and scale of such a queue would persist a row no node reads.
   */
  async unknownQueue(queue: string): Promise<string | null> {
    const names = (await this.controls.list()).map((q) => q.name);
    if (names.includes(queue)) return null;
    const { rows } = await this.pool.query(`select 1 from ${this.quotedSchema}.jobs where queue = $1 limit 1`, [queue]);
    if (rows.length) return null;
    return `no live node serves queue "${queue}", it holds no jobs and has no settings.${names.length ? didYouMean(queue, names) : " No queue is known yet."}`;
  }

  /** Why `nodeType` is unknown (not built in, not in DURABLE_NODE_TYPES or `declared`, not run by a live node), or null. */
  async unknownNodeType(nodeType: string, declared: readonly string[] = []): Promise<string | null> {
    const live = (await this.nodes()).filter((n) => n.alive).flatMap((n) => (Array.isArray(n.nodeTypes) ? n.nodeTypes : []));
    const known = [...new Set([...knownNodeTypes(declared), ...live])];
    if (known.includes(nodeType)) return null;
    return `unknown node type "${nodeType}".${didYouMean(nodeType, known)}`;
  }

  private get quotedSchema(): string {
    return this.target.quotedSchema;
  }

  /** Queues with settings and unfinished counts (control), plus finished counts of the last 24 hours. */
  async queues(): Promise<QueueSummary[]> {
    const [queues, finished] = await Promise.all([this.controls.list(), this.pool.query(sql.finishedCounts(this.quotedSchema))]);
    const byName = new Map(queues.map((queue) => [queue.name, { ...queue, counts: { ...queue.counts } }]));
    for (const row of finished.rows) {
      // A queue whose jobs all finished is idle, not gone: it keeps its row while the 24 hours last.
      if (!byName.has(row.queue)) byName.set(row.queue, idleQueue(row.queue));
      byName.get(row.queue)!.counts[row.state] = row.count;
    }
    return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async nodes(): Promise<NodeSummary[]> {
    const { rows } = await this.pool.query(sql.nodes(this.quotedSchema));
    return rows.map((r) => ({
      nodeId: r.node_id, nodeTypes: r.node_types, queues: plainObject(r.queues), taskIds: r.task_ids, hostname: r.hostname, pid: r.pid,
      startedAt: r.started_at, heartbeatAgeS: r.heartbeat_age_s === null ? null : Number(r.heartbeat_age_s), alive: r.alive,
    }));
  }

  /** Finished jobs per minute over the last hour: 60 buckets, oldest first. */
  async throughput(): Promise<Array<{ minute: number; completed: number; failed: number }>> {
    const { rows } = await this.pool.query(sql.throughput(this.quotedSchema));
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
    const { rows } = await this.pool.query(sql.tasks(this.quotedSchema));
    return rows.map((r) => ({
      taskId: r.task_id, bodyHash: r.body_hash, caller: { file: r.file, fn: r.fn, line: r.line, column: r.col }, source: r.source,
      captureNames: r.capture_names, kind: r.kind, firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at, nodeIds: r.node_ids,
    }));
  }

  async job(id: string): Promise<JobDetail | null> {
    if (!isJobId(id)) return null;
    const [{ rows }, steps] = await Promise.all([this.pool.query(sql.jobDetail(this.quotedSchema), [id]), stepTree(this.pool, this.quotedSchema, id)]);
    const r = rows[0];
    if (!r) return null;
    const { file, fn, line, col, source, capture_names, captures, result, errors, unique_key: _unique, timeout_ms: _timeout, ...rest } = r;
    return {
      ...rest,
      captures: displayValue(captures),
      result: result === null ? null : displayValue(result),
      ...(() => {
        const { errors: list, problem } = recordedErrors(errors);
        return { errors: list, errorsProblem: problem };
      })(),
      caller: file ? { file, fn, line, column: col } : null,
      source: source ?? null,
      captureNames: capture_names ?? [],
      waitingFor: (await this.waitingFor([r.id])).get(r.id) ?? null,
      steps,
    };
  }

  /** One page, newest first; pass `next` back as `after` for the following page. */
  async list(filter: JobFilter, page: { limit?: number; after?: string | null } = {}): Promise<{ jobs: JobView[]; next: string | null }> {
    const result = await listJobs(this.target, filter, { limit: page.limit ?? 50, after: page.after ?? null, order: "desc" });
    const ids = result.jobs.map((j) => j.id);
    const progress = new Map<string, Progress>();
    if (ids.length) for (const r of (await this.pool.query(sql.progressOf(this.quotedSchema), [ids])).rows) progress.set(r.id, r.progress);
    const waiting = await this.waitingFor(ids);
    return { jobs: result.jobs.map((j) => ({ ...j, progress: progress.get(j.id) ?? null, waitingFor: waiting.get(j.id) ?? null })), next: result.next };
  }

  /** Of these jobs, the due ones no live node can run, with what each waits for. */
  private async waitingFor(ids: string[]): Promise<Map<string, WaitingReason>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.pool.query(waitingAmong(this.quotedSchema), [ids]);
    return new Map(rows.map((r) => [r.id as string, waitingReason(r)]));
  }

  count(filter: JobFilter): Promise<number> {
    return countJobs(this.target, filter);
  }

  stream(filter: JobFilter): AsyncGenerator<JobRecord> {
    return streamJobs(this.target, filter, { order: "desc" });
  }

  csv(filter: JobFilter): Readable {
    return jobsCsv(this.target, filter);
  }

  async retry(filter: JobFilter, onProgress?: (done: number, total: number) => void): Promise<number> {
    await this.writable();
    return this.bulk("retry", filter, () => retryJobs(this.target, filter), onProgress);
  }
  async cancel(filter: JobFilter, onProgress?: (done: number, total: number) => void): Promise<number> {
    await this.writable();
    return this.bulk("cancel", filter, () => cancelJobs(this.target, filter), onProgress);
  }
  async delete(filter: JobFilter, onProgress?: (done: number, total: number) => void): Promise<number> {
    await this.writable();
    return this.bulk("delete", filter, () => deleteJobs(this.target, filter), onProgress);
  }

  /**
   * Why each of these ids would not be touched by `operation`: not found, or in a state it does
   * not apply to. Read before the operation, to explain a count lower than the ids given.
   */
  async untouchable(operation: keyof typeof TOUCHES, ids: string[]): Promise<Array<{ id: string; reason: string }>> {
    const { rows } = await this.pool.query<{ id: string; state: JobState }>(`select id::text, state from ${this.quotedSchema}.jobs where id = any($1::bigint[])`, [ids]);
    const states = new Map(rows.map((r) => [r.id, r.state]));
    const allowed = TOUCHES[operation] as readonly string[];
    const out: Array<{ id: string; reason: string }> = [];
    for (const id of ids) {
      const state = states.get(id);
      if (state === undefined) out.push({ id, reason: "does not exist (it may have been pruned)" });
      else if (!allowed.includes(state)) out.push({ id, reason: `is ${state}; ${operation} applies to ${allowed.join(", ")} jobs${operation === "delete" && state === "executing" ? " (cancel it first)" : ""}` });
    }
    return out;
  }

  /**
   * The control functions work in batches but report only the total, so a
   * progress display counts what is still left to do while they run.
   */
  private async bulk(kind: keyof typeof TOUCHES, filter: JobFilter, run: () => Promise<number>, onProgress?: (done: number, total: number) => void): Promise<number> {
    if (!onProgress) return run();
    const states = filter.state === undefined ? TOUCHES[kind] : (Array.isArray(filter.state) ? filter.state : [filter.state]).filter((s) => (TOUCHES[kind] as string[]).includes(s));
    const pending = { ...filter, state: states as JobState[] };
    const total = states.length ? await countJobs(this.target, pending) : 0;
    let best = 0;
    let running = true;
    const poll = (async () => {
      while (running) {
        await new Promise((r) => setTimeout(r, 200));
        if (!running) break;
        const left = await countJobs(this.target, pending).catch(() => total);
        best = Math.max(best, total - left);
        onProgress(best, total);
      }
    })();
    onProgress(0, total);
    try {
      return await run();
    } finally {
      running = false;
      await poll;
    }
  }

  /** Pause, resume and scale refuse a queue nothing knows of (a typo) unless `create` says to configure it anyway. */
  async pause(queue: string, forMs?: number, options: QueueWriteOptions = {}): Promise<void> {
    await this.checkQueueWrite(queue, options);
    return this.controls.pause(queue, forMs === undefined ? {} : { for: forMs });
  }
  async resume(queue: string, options: QueueWriteOptions = {}): Promise<void> {
    await this.checkQueueWrite(queue, options);
    return this.controls.resume(queue);
  }
  async scale(queue: string, concurrency: number, options: QueueWriteOptions = {}): Promise<void> {
    await this.checkQueueWrite(queue, options);
    return this.controls.scale(queue, concurrency);
  }
  /** Refuses a node type no worker could run (the check `durable worker --node-type` makes), plus those of live nodes. */
  async addQueue(queue: string, nodeType: string, concurrency?: number, options: { nodeTypes?: readonly string[] } = {}): Promise<void> {
    await this.writable();
    const problem = await this.unknownNodeType(nodeType, options.nodeTypes ?? []);
    if (problem) throw new InvalidOptionError("nodeType", `${problem} Declare it as workers do (DURABLE_NODE_TYPES=${nodeType}, or --node-types ${nodeType}), or start a node of that type first.`);
    return this.controls.add(queue, concurrency === undefined ? { nodeType } : { nodeType, concurrency });
  }
  async removeQueue(queue: string): Promise<void> {
    await this.writable();
    return this.controls.remove(queue);
  }

  private async checkQueueWrite(queue: string, options: QueueWriteOptions): Promise<void> {
    await this.writable();
    if (options.create) return;
    const problem = await this.unknownQueue(queue);
    if (problem) throw new InvalidOptionError("queue", `${problem} To configure it before any node serves it, pass --create (durable.queues.* configures any queue name).`);
  }
}

export interface QueueWriteOptions {
  /** Configure the queue even though no node serves it, no job is in it and it has no settings yet. */
  create?: boolean;
}

/** The same object, its write methods first checking `check()` (reads pass straight through). */
function guardWrites<T extends object>(target: T, methods: readonly string[], check: () => Promise<void>): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver);
      if (typeof key !== "string" || !methods.includes(key) || typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        await check();
        return value.apply(obj, args);
      };
    },
  });
}

function idleQueue(name: string): QueueSummary {
  return { name, paused: false, pausedUntil: null, concurrency: null, nodeConcurrency: 0, nodeType: null, globalConcurrency: null, rateLimit: null, retention: null, counts: {} };
}

/** A node's queue map; anything else a row may hold reads as no queues. */
function plainObject(value: unknown): Record<string, number> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, number>) : {};
}
