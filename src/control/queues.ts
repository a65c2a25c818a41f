import { InvalidOptionError } from "../errors.js";
import { describe, parseDuration } from "../config/duration.js";
import { validateQueueName } from "../config/options.js";
import { didYouMean } from "../contract/index.js";
import type { TargetSource } from "./target.js";
import * as sql from "./queries.js";

export interface RateLimit {
  /** Jobs that may start in any window of `period`, across all nodes. */
  allowed: number;
  period: string | number;
  /** "meta.accountId": a window per value of that meta path, so one account cannot use up another's budget. */
  by?: string;
}

export interface Retention {
  completed?: string | number;
  discarded?: string | number;
  cancelled?: string | number;
}

/** Per-queue settings that hold across all nodes. `null` clears a setting. */
export interface QueueSettings {
  rateLimit?: RateLimit | null;
  globalConcurrency?: number | null;
  retention?: Retention | null;
}

export interface QueueInfo {
  name: string;
  paused: boolean;
  pausedUntil: Date | null;
  /** Per-node concurrency set with scale(); null means each node's own. */
  concurrency: number | null;
  /** Sum of the per-node limits of live nodes serving this queue. */
  nodeConcurrency: number;
  /** Set for a queue added with add(): the node type whose nodes run it. */
  nodeType: string | null;
  globalConcurrency: number | null;
  rateLimit: { allowed: number; periodMs: number; by?: string } | null;
  retention: { completed?: number; discarded?: number; cancelled?: number } | null;
  /** Unfinished jobs by state. */
  counts: Record<string, number>;
}

const SETTINGS = ["rateLimit", "globalConcurrency", "retention"];
const RETENTION_STATES = ["completed", "discarded", "cancelled"];
/** rate_limit_period_ms is an integer column. */
const MAX_PERIOD_MS = 2_147_483_647;
/** Pauses and retention are stored as timestamps and intervals; past a century they are a typo, not a plan. */
const MAX_SPAN_MS = 100 * 365 * 86_400_000;

function span(option: string, value: unknown, fix: string): number {
  const ms = parseDuration(option, value);
  if (ms > MAX_SPAN_MS) throw new InvalidOptionError(option, `must be at most 100 years, got ${describe(value)}. ${fix}`);
  return ms;
}

function positiveInt(option: string, value: unknown, max: number, fix: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
    throw new InvalidOptionError(option, `expected an integer from 1 to ${max}, got ${describe(value)}. ${fix}`);
  }
  return value as number;
}

const BY_SEGMENT = /^[A-Za-z0-9_-]{1,100}$/;

/** "meta.accountId" → "accountId" (stored; nodes split it at dots into a jsonb path). */
function rateLimitBy(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const parts = typeof value === "string" ? value.split(".") : [];
  if (parts[0] !== "meta" || parts.length < 2 || parts.length > 6 || !parts.slice(1).every((p) => BY_SEGMENT.test(p))) {
    throw new InvalidOptionError("rateLimit.by", `expected a meta path like "meta.accountId" (letters, digits, _ and -, up to 5 levels), got ${describe(value)}.`);
  }
  return parts.slice(1).join(".");
}

export function normalizeRateLimit(value: unknown): { allowed: number; periodMs: number; by?: string } | null {
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidOptionError("rateLimit", `expected { allowed: 10, period: "1s" } or null to remove it, got ${describe(value)}.`);
  }
  const r = value as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!RATE_KEYS.includes(key)) throw new InvalidOptionError(`rateLimit.${key}`, `is not a rate limit option.${didYouMean(key, RATE_KEYS)}`);
  }
  const allowed = positiveInt("rateLimit.allowed", r.allowed, 1_000_000, "It is how many jobs may start per period.");
  if (r.period === undefined) throw new InvalidOptionError("rateLimit.period", `is required: the window length, like "1s" or "1m".`);
  const periodMs = parseDuration("rateLimit.period", r.period);
  if (periodMs < 1 || periodMs > MAX_PERIOD_MS) throw new InvalidOptionError("rateLimit.period", `must be from 1 ms to about 24 days, got ${periodMs} ms.`);
  const by = rateLimitBy(r.by);
  return by === undefined ? { allowed, periodMs } : { allowed, periodMs, by };
}

const RATE_KEYS = ["allowed", "period", "by"];

export function normalizeRetention(value: unknown): Record<string, number> | null {
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidOptionError("retention", `expected { completed: "7d", discarded: "30d", cancelled: "30d" } (any subset) or null, got ${describe(value)}.`);
  }
  const out: Record<string, number> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!RETENTION_STATES.includes(key)) throw new InvalidOptionError(`retention.${key}`, `is not a finished state.${didYouMean(key, RETENTION_STATES)}`);
    out[key] = span(`retention.${key}`, v, "Pass null to keep the default retention.");
  }
  return out;
}

function normalizeSettings(value: unknown) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidOptionError("settings", `expected an object like { rateLimit: { allowed: 10, period: "1s" }, globalConcurrency: 3 }, got ${describe(value)}.`);
  }
  const s = value as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!SETTINGS.includes(key)) throw new InvalidOptionError(key, `is not a queue setting.${didYouMean(key, SETTINGS)}`);
  }
  return {
    global: s.globalConcurrency === undefined ? undefined : s.globalConcurrency === null ? null : positiveInt("globalConcurrency", s.globalConcurrency, 100_000, "It caps running jobs across all nodes; pass null to remove it."),
    rate: s.rateLimit === undefined ? undefined : normalizeRateLimit(s.rateLimit),
    retention: s.retention === undefined ? undefined : normalizeRetention(s.retention),
  };
}

/**
 * durable.queues: pause, resume, scale and configure queues. Everything is
 * persisted in the queues table (so nodes that start later see it) and
 * announced on the control channel (so running nodes apply it at once; their
 * poll re-reads it anyway if a notification is lost).
 */
export class QueueControls {
  constructor(private readonly target: TargetSource) {}

  /** Stops every node from starting jobs of `queue`; with `for`, it resumes by itself. Running jobs finish. */
  async pause(queue: string, options: { for?: string | number } = {}): Promise<void> {
    validateQueueName("queue", queue);
    if (typeof options !== "object" || options === null) throw new InvalidOptionError("options", `expected { for?: "1h30m" }, got ${describe(options)}.`);
    for (const key of Object.keys(options)) if (key !== "for") throw new InvalidOptionError(key, `is not an option of queues.pause().${didYouMean(key, ["for"])}`);
    const forMs = options.for === undefined ? null : span("for", options.for, "Leave `for` out to pause until resume() is called.");
    if (forMs !== null && forMs < 1) throw new InvalidOptionError("for", `must be longer than 0, like "30m"; call resume() to resume now.`);
    const t = await this.target();
    await t.pool.query(sql.pauseQueue(t.quotedSchema), [queue, t.channels.control, forMs]);
  }

  async resume(queue: string): Promise<void> {
    validateQueueName("queue", queue);
    const t = await this.target();
    await t.pool.query(sql.resumeQueue(t.quotedSchema), [queue, t.channels.control]);
  }

  /** Sets the per-node concurrency of `queue` on every node; null goes back to each node's own setting. */
  async scale(queue: string, concurrency: number | null): Promise<void> {
    validateQueueName("queue", queue);
    if (concurrency !== null && (!Number.isInteger(concurrency) || concurrency < 0 || concurrency > 10_000)) {
      throw new InvalidOptionError("concurrency", `expected an integer from 0 to 10000 (0 stops the queue on every node), or null for each node's own, got ${describe(concurrency)}.`);
    }
    const t = await this.target();
    await t.pool.query(sql.scaleQueue(t.quotedSchema), [queue, t.channels.control, concurrency]);
  }

  /**
   * Starts `queue` on every node of `nodeType` (running or started later),
   * `concurrency` jobs at a time per node (default 10), without a restart.
   */
  async add(queue: string, options: { nodeType: string; concurrency?: number }): Promise<void> {
    validateQueueName("queue", queue);
    if (typeof options !== "object" || options === null) throw new InvalidOptionError("options", `expected { nodeType: "worker", concurrency: 5 }, got ${describe(options)}.`);
    for (const key of Object.keys(options)) if (key !== "nodeType" && key !== "concurrency") throw new InvalidOptionError(key, `is not an option of queues.add().${didYouMean(key, ["nodeType", "concurrency"])}`);
    if (typeof options.nodeType !== "string" || !/^[A-Za-z0-9_-]{1,50}$/.test(options.nodeType)) {
      throw new InvalidOptionError("nodeType", `expected the node type whose nodes run the queue, like "worker", got ${describe(options.nodeType)}.`);
    }
    const concurrency = options.concurrency ?? 10;
    if (!Number.isInteger(concurrency) || concurrency < 0 || concurrency > 10_000) {
      throw new InvalidOptionError("concurrency", `expected an integer from 0 to 10000 (jobs at a time per node), got ${describe(options.concurrency)}.`);
    }
    const t = await this.target();
    await t.pool.query(sql.addQueue(t.quotedSchema), [queue, t.channels.control, options.nodeType, concurrency]);
  }

  /** Stops a queue added with add() on every node: running jobs finish (within each node's shutdown grace), nothing new starts. Its jobs stay. */
  async remove(queue: string): Promise<void> {
    validateQueueName("queue", queue);
    const t = await this.target();
    const { rows } = await t.pool.query(sql.removeQueue(t.quotedSchema), [queue, t.channels.control]);
    if (rows[0].n === 0) {
      throw new InvalidOptionError("queue", `"${queue}" was not added with durable.queues.add(). A queue from durable.start({ queues }) stops with durable.queues.scale("${queue}", 0), or by removing it from that configuration.`);
    }
  }

  /** The per-node concurrency of a queue on every node (same as scale; named for runtime queues). */
  resize(queue: string, concurrency: number | null): Promise<void> {
    return this.scale(queue, concurrency);
  }

  /** Cluster-wide limits and retention. Only the settings passed change; null removes one. */
  async configure(queue: string, settings: QueueSettings): Promise<void> {
    validateQueueName("queue", queue);
    const s = normalizeSettings(settings);
    const t = await this.target();
    await t.pool.query(sql.configureQueue(t.quotedSchema), [
      queue, t.channels.control,
      s.global !== undefined, s.global ?? null,
      s.rate !== undefined, s.rate?.allowed ?? null, s.rate?.periodMs ?? null, s.rate?.by ?? null,
      s.retention !== undefined, s.retention ? JSON.stringify(s.retention) : null,
    ]);
  }

  async list(): Promise<QueueInfo[]> {
    const t = await this.target();
    const { rows } = await t.pool.query(sql.listQueues(t.quotedSchema));
    return rows.map((r) => ({
      name: r.name,
      paused: r.paused,
      pausedUntil: r.paused_until,
      concurrency: r.concurrency,
      nodeConcurrency: r.node_concurrency,
      nodeType: r.node_type ?? null,
      globalConcurrency: r.global_concurrency,
      rateLimit: r.rate_limit_allowed ? { allowed: r.rate_limit_allowed, periodMs: r.rate_limit_period_ms, ...(r.rate_limit_by ? { by: `meta.${r.rate_limit_by}` } : {}) } : null,
      retention: r.retention,
      counts: r.counts,
    }));
  }
}
