import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type pg from "pg";
import type { NormalizedStart } from "../config/start.js";
import type { DurableEmitter } from "../events/index.js";
import { knownTasks, onTasksChanged } from "../tasks/registry.js";
import type { Notifier } from "../db/notifier.js";
import { Acker } from "./acker.js";
import { Producer } from "./producer.js";
import * as sql from "./queries.js";
import { channels } from "../db/schema.js";
import type { Codec } from "../serialize/codec.js";
import { TaskCatalog } from "../enqueue/index.js";
import { Pruner } from "../prune/index.js";

export interface RunnerDeps {
  pool: pg.Pool;
  q: string;
  schema: string;
  config: NormalizedStart;
  events: DurableEmitter;
  notifier: Notifier | null;
  codec: Codec;
  catalog: TaskCatalog;
}

/**
 * One node: its producers (one per queue), the heartbeat that keeps its lease,
 * and the maintenance every node runs (rescue, version-skew discards). No
 * leader: every statement is safe to run from every node at once.
 */
export class Runner {
  readonly nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  readonly producers = new Map<string, Producer>();
  private readonly acker: Acker;
  private timers: NodeJS.Timeout[] = [];
  private taskKeys: string[] = [];
  private unsubscribe: Array<() => void> = [];
  private ticks = 0;
  private stopping = false;
  private readonly pruner: Pruner;
  private controlsReading: Promise<void> | null = null;
  private controlsAgain = false;

  constructor(private readonly deps: RunnerDeps) {
    const { config } = deps;
    const done = channels(deps.schema).done;
    this.acker = new Acker(deps.pool, deps.q, done, config.logger);
    this.pruner = new Pruner(deps.pool, deps.q, config.logger, (error) => this.report("pruning finished jobs", error));
    const executorDeps = {
      pool: deps.pool,
      q: deps.q,
      doneChannel: done,
      acker: this.acker,
      events: deps.events,
      logger: config.logger,
      maxResultBytes: config.maxResultBytes,
      decode: deps.codec.decode,
      encode: deps.codec.encode,
    };
    for (const [queue, limit] of Object.entries(config.queues)) {
      this.producers.set(queue, new Producer(queue, limit, this.nodeId, () => this.taskKeys, executorDeps));
    }
  }

  async start(): Promise<void> {
    await this.refreshTasks();
    await this.register();
    await this.refreshControls();
    const { notifier, config } = this.deps;
    if (notifier) {
      this.unsubscribe.push(
        notifier.on("insert", ({ queue, dueMs }) => (dueMs === null ? this.producers.get(queue)?.wake() : this.producers.get(queue)?.wakeAt(dueMs))),
        notifier.on("control", () => void this.refreshControls()),
        // Done ids name jobs finished elsewhere: one still running here was cancelled (abort it);
        // a limited queue may have a free global slot now.
        notifier.on("done", ({ ids }) => this.onJobsDone(ids)),
        notifier.onReconnect(() => {
          void this.refreshControls();
          for (const p of this.producers.values()) p.wake();
        }),
      );
    }
    this.unsubscribe.push(onTasksChanged(() => void this.refreshTasks().then(() => this.register())));
    this.every(config.pollIntervalMs, () => {
      for (const p of this.producers.values()) p.wake();
      void this.refreshControls();
    });
    this.every(config.heartbeatIntervalMs, () => this.maintain());
    for (const p of this.producers.values()) p.wake();
  }

  private every(ms: number, fn: () => void | Promise<void>): void {
    // Not unref'd: a worker node stays up until stopped, even with notifications off.
    const timer = setInterval(() => void Promise.resolve().then(fn).catch((error) => this.report("maintenance", error)), ms);
    this.timers.push(timer);
  }

  private report(during: string, error: unknown): void {
    const e = error instanceof Error ? error : new Error(String(error));
    this.deps.events.emit("node:error", { error: e, during });
    this.deps.config.logger.warn(`durable: ${during} failed`, { error: e.message });
  }

  private async register(): Promise<void> {
    const { pool, q, config } = this.deps;
    const queues = Object.fromEntries([...this.producers].map(([name, p]) => [name, p.limit]));
    await pool.query(sql.registerNode(q), [
      this.nodeId, config.nodeTypes, JSON.stringify(queues), knownTasks().map((t) => t.id), hostname(), process.pid, config.leaseTtlMs,
    ]);
  }

  /** Heartbeat, rescue, and (less often) version-skew cleanup. */
  private async maintain(): Promise<void> {
    if (this.stopping) return;
    const { pool, q, config, events } = this.deps;
    const alive = await pool.query(sql.heartbeat(q), [this.nodeId, config.leaseTtlMs]);
    // Our row was removed (we were presumed dead, e.g. a long pause): come back.
    if (alive.rowCount === 0) await this.register();
    const rescued = await pool.query(sql.rescueOrphanedJobs(q));
    if (rescued.rows.length > 0) {
      events.emit("job:rescue", { jobs: rescued.rows.map((r) => ({ id: r.id, state: r.state })) });
      config.logger.info("durable: rescued jobs from dead nodes", { count: rescued.rows.length });
      for (const r of rescued.rows) this.producers.get(r.queue)?.wake();
    }
    await this.abortCancelled([...this.producers.values()].flatMap((p) => [...p.running.keys()]));
    if (this.ticks % 5 === 0) await this.releaseForgottenJobs();
    this.pruner.maybeRun();
    if (this.ticks++ % 10 === 0) {
      await pool.query(sql.deleteDeadNodes(q));
      await this.refreshTasks();
      const discarded = await pool.query(sql.discardUnknownTasks(q), [config.unknownTaskGraceMs]);
      if (discarded.rows.length > 0) events.emit("job:discard-unknown", { jobs: discarded.rows.map((r) => ({ id: r.id, task: r.task_id })) });
    }
  }

  /**
   * Hands back jobs claimed in this node's name that it is not running (the
   * claim's reply was lost). Only when the pool bounds query time: a claim
   * reply may arrive until then, and one arriving after a release could run
   * a job that already succeeded elsewhere.
   */
  private async releaseForgottenJobs(): Promise<void> {
    const { pool, q, config } = this.deps;
    const queryTimeoutMs = Number((pool as unknown as { options?: { query_timeout?: unknown } }).options?.query_timeout) || 0;
    if (queryTimeoutMs <= 0) return;
    const held = [...this.producers.values()].flatMap((p) => [...p.running.keys(), ...p.buffered]).concat(this.acker.unwritten());
    const released = await pool.query(sql.releaseForgottenJobs(q), [this.nodeId, held, queryTimeoutMs + 30_000]);
    if (released.rows.length === 0) return;
    config.logger.warn("durable: released jobs claimed for this node that it never received (a lost reply)", { count: released.rows.length });
    for (const r of released.rows) this.producers.get(r.queue)?.wake();
  }

  /**
   * Which (task id, body hash) pairs this node claims: its own versions, plus
   * other recorded versions the body-hash policy accepts.
   */
  private async refreshTasks(): Promise<void> {
    const { pool, q, config, catalog } = this.deps;
    const tasks = knownTasks();
    await catalog.ensure(pool, tasks);
    const keys = new Set(tasks.map((t) => `${t.id}:${t.hash}`));
    if (config.bodyHashPolicy !== "hold" && tasks.length > 0) {
      const local = new Map(tasks.map((t) => [t.id, [...t.captures].sort().join(",")]));
      const { rows } = await pool.query(sql.taskVersions(q), [[...local.keys()]]);
      for (const row of rows) {
        const same = [...row.capture_names].sort().join(",") === local.get(row.task_id);
        if (config.bodyHashPolicy === "always" || same) keys.add(`${row.task_id}:${row.body_hash}`);
      }
    }
    this.taskKeys = [...keys];
  }

  /**
   * Re-reads queue controls. Reads never overlap: a poll's read that started
   * before a pause was written must not land after the notified read and
   * unpause the queue again, so a request during a read queues one more read.
   */
  refreshControls(): Promise<void> {
    if (this.controlsReading) {
      this.controlsAgain = true;
      return this.controlsReading;
    }
    this.controlsReading = (async () => {
      try {
        do {
          this.controlsAgain = false;
          await this.readControls();
        } while (this.controlsAgain);
      } finally {
        // Cleared in the same tick as the last check, so no request slips between them.
        this.controlsReading = null;
      }
    })();
    return this.controlsReading;
  }

  private async readControls(): Promise<void> {
    const { pool, q } = this.deps;
    try {
      const { rows } = await pool.query(sql.queueControls(q), [[...this.producers.keys()]]);
      const byName = new Map(rows.map((r) => [r.name, r]));
      for (const [name, producer] of this.producers) {
        const row = byName.get(name);
        producer.setControl({
          paused: Boolean(row?.paused),
          concurrency: row?.concurrency ?? null,
          globalConcurrency: row?.global_concurrency ?? null,
          rateLimit: row?.rate_limit_allowed ? { allowed: row.rate_limit_allowed, periodMs: row.rate_limit_period_ms } : null,
        });
      }
    } catch (error) {
      this.report("reading queue controls", error);
    }
  }

  private onJobsDone(ids: string[]): void {
    const running = ids.filter((id) => this.isRunning(id));
    if (running.length > 0) void this.abortCancelled(running);
    for (const p of this.producers.values()) if (p.limited) p.wake();
  }

  private isRunning(jobId: string): boolean {
    for (const p of this.producers.values()) if (p.running.has(jobId)) return true;
    return false;
  }

  /** Aborts the signal of jobs running here whose row was cancelled (durable.jobs.cancel from any process). */
  private async abortCancelled(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      const { rows } = await this.deps.pool.query(sql.cancelledAmong(this.deps.q), [ids]);
      for (const { id } of rows) this.cancelRunning(id, "cancelled with durable.jobs.cancel()");
    } catch (error) {
      this.report("checking for cancelled jobs", error);
    }
  }

  /** Aborts a running job here if this node runs it (cancel from any node). */
  cancelRunning(jobId: string, reason: string): boolean {
    for (const producer of this.producers.values()) if (producer.cancel(jobId, reason)) return true;
    return false;
  }

  get runningCount(): number {
    let n = 0;
    for (const p of this.producers.values()) n += p.running.size;
    return n;
  }

  /** Graceful stop: no new claims, running jobs get the grace period, the rest go back to the queue at once. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    for (const u of this.unsubscribe) u();
    const left = (await Promise.all([...this.producers.values()].map((p) => p.stop(graceMs)))).flat();
    const { pool, q, config } = this.deps;
    if (left.length > 0) {
      try {
        await pool.query(sql.releaseJobs(q), [left, this.nodeId]);
        config.logger.info("durable: released unfinished jobs to other nodes", { count: left.length });
      } catch (error) {
        this.report("releasing jobs on shutdown", error);
      }
      for (const p of this.producers.values()) p.abortRunning();
    }
    await this.acker.drain();
    await this.pruner.idle();
    await pool.query(sql.unregisterNode(q), [this.nodeId]).catch((error) => this.report("unregistering the node", error));
  }
}
