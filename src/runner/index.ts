import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type pg from "pg";
import type { NormalizedStart } from "../config/start.js";
import type { DurableEmitter } from "../events/index.js";
import { knownTasks, onTasksChanged } from "../tasks/registry.js";
import type { Notifier } from "../db/notifier.js";
import type { NotifyKey } from "../db/carried-results.js";
import { channels } from "../db/schema.js";
import type { Codec } from "../serialize/codec.js";
import type { TaskCatalog } from "../enqueue/index.js";
import { buildId } from "./build-id.js";
import { Completer } from "./completer.js";
import { finalDeadline, settleBy } from "./deadline.js";
import { DrainState } from "./drain.js";
import { executeJob, type ExecutorDeps } from "./executor.js";
import { logDiscarded } from "./outcome-report.js";
import { PgJobSource } from "./job-source.js";
import { maintenanceServices } from "./maintenance/index.js";
import { MaintenanceService } from "./maintenance/service.js";
import { reportOutcome } from "./outcome-report.js";
import { PgOutcomeStore } from "./outcome-store.js";
import { Producer } from "./producer.js";
import * as sql from "./queries.js";
import { syncRuntimeQueues } from "./runtime-queues.js";
import { buildDrained } from "../nodes/queries.js";
import { StepRuntime } from "../steps/index.js";

export interface RunnerDeps {
  pool: pg.Pool;
  quotedSchema: string;
  schema: string;
  config: NormalizedStart;
  events: DurableEmitter;
  notifier: Notifier | null;
  codec: Codec;
  catalog: TaskCatalog;
  /** Small results ride the done notification when set (notifyResults and a readable key). */
  notifyKey: NotifyKey | null;
}

/**
 * One node: its producers (one per queue) that claim and run jobs, the
 * completer that records their outcomes, and the maintenance services every
 * node runs (maintenance/). No leader: every statement is safe to run from
 * every node at once.
 */
export class Runner {
  readonly nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  readonly producers = new Map<string, Producer>();
  readonly completer: Completer;
  private services: MaintenanceService[] = [];
  private taskKeys: string[] = [];
  /** "task_id:body_hash" of a moved call site -> the id of this node's stub with that body (refreshTasks). */
  private taskRoutes = new Map<string, string>();
  /** This node's build (the `version` option, else the task manifest's hash), as of the last registration. */
  build = "";
  readonly drain: DrainState;
  private unsubscribe: Array<() => void> = [];
  private unsubscribeDone: (() => void) | null = null;
  private controlsReading: Promise<void> | null = null;
  private controlsAgain = false;

  constructor(private readonly deps: RunnerDeps) {
    const { config, pool, quotedSchema, events } = deps;
    const store = new PgOutcomeStore(pool, quotedSchema, this.nodeId, channels(deps.schema).done, channels(deps.schema).insert, deps.notifyKey);
    this.completer = new Completer(store, {
      logger: config.logger,
      onSettled: (entry, recorded) => {
        const dueMs = reportOutcome(entry, recorded, events, config.logger);
        if (dueMs !== null) this.producers.get(entry.job.queue)?.wakeAt(dueMs);
      },
    });
    this.executorDeps = {
      pool,
      quotedSchema,
      events,
      completer: this.completer,
      decode: deps.codec.decode,
      stubId: (taskId, bodyHash) => this.taskRoutes.get(`${taskId}:${bodyHash}`) ?? taskId,
      policy: { maxResultBytes: config.maxResultBytes, encode: deps.codec.encode },
      steps: new StepRuntime({ pool, quotedSchema, config, codec: deps.codec, catalog: deps.catalog, events, notifier: deps.notifier, insertChannel: channels(deps.schema).insert }),
    };
    this.drain = new DrainState(pool, quotedSchema, config.logger);
    for (const [queue, limit] of Object.entries(config.queues)) this.addProducer(queue, limit);
  }

  private readonly executorDeps: ExecutorDeps;
  /** Queues this node runs because durable.queues.add() named one of its node types (runtime-queues.ts). */
  private readonly runtimeQueues = new Set<string>();

  addProducer(queue: string, limit: number): Producer {
    const { pool, quotedSchema, config } = this.deps;
    const source = new PgJobSource(pool, quotedSchema, queue, this.nodeId, config.maxClaimBytes);
    const producer = new Producer(queue, limit, () => this.drain.keysFor(queue, this.taskKeys), source, (job, controller) => executeJob(job, controller, this.executorDeps), config.logger);
    this.producers.set(queue, producer);
    return producer;
  }

  /** A queue removed at run time: its running jobs get the shutdown grace, the rest go back at once. */
  async retireProducer(producer: Producer): Promise<void> {
    const { started, unstarted } = await producer.stop(Date.now() + this.deps.config.shutdownGraceMs);
    if (started.length === 0 && unstarted.length === 0) return;
    try {
      if (unstarted.length > 0) await this.deps.pool.query(sql.releaseJobs(this.deps.quotedSchema), [unstarted, this.nodeId]);
      if (started.length > 0) await this.deps.pool.query(sql.interruptJobs(this.deps.quotedSchema), [started, this.nodeId, this.deps.config.shutdownGraceMs]);
    } catch (error) {
      this.report("releasing the jobs of a removed queue", error);
    } finally {
      producer.abortRunning();
    }
  }

  async start(): Promise<void> {
    await this.refreshTasks();
    await this.register();
    await this.refreshControls();
    this.subscribe();
    this.unsubscribe.push(onTasksChanged(() => void this.refreshTasks().then(() => this.register()).catch((error) => this.report("registering tasks", error))));
    this.services = maintenanceServices(this, this.deps).map((spec) => new MaintenanceService(spec, (during, error) => this.report(during, error)));
    for (const service of this.services) service.start();
    this.wakeAll();
  }

  private subscribe(): void {
    const { notifier } = this.deps;
    if (!notifier) return;
    // Done ids name jobs finished elsewhere: one still running here was cancelled (abort it);
    // a limited queue may have a free global slot now. Kept while stopping, until the jobs here end.
    this.unsubscribeDone = notifier.on("done", ({ ids }) => this.onJobsDone(ids));
    this.unsubscribe.push(
      notifier.on("insert", ({ queue, dueMs }) => (dueMs === null ? this.producers.get(queue)?.wake() : this.producers.get(queue)?.wakeAt(dueMs))),
      notifier.on("control", () => {
        void this.refreshControls();
        void this.readDrained();
      }),
      notifier.onReconnect(() => {
        void this.refreshControls();
        this.wakeAll();
      }),
    );
  }

  wakeAll(): void {
    for (const p of this.producers.values()) p.wake();
  }

  pollAll(): void {
    for (const p of this.producers.values()) p.poll();
  }

  /** Every job this node holds: running, buffered, or finished with its outcome not yet written. */
  heldJobs(): string[] {
    return [...this.producers.values()].flatMap((p) => [...p.running.keys(), ...p.buffered]).concat(this.completer.unwritten());
  }

  report(during: string, error: unknown): void {
    const e = error instanceof Error ? error : new Error(String(error));
    this.deps.events.emit("node:error", { error: e, during });
    this.deps.config.logger.warn(`durable: ${during} failed`, { error: e.message });
  }

  async register(): Promise<void> {
    const { pool, quotedSchema, config } = this.deps;
    const queues = Object.fromEntries([...this.producers].map(([name, p]) => [name, p.limit]));
    const tasks = knownTasks();
    this.build = buildId(tasks, config.version);
    const { rows } = await pool.query(sql.registerNode(quotedSchema), [
      this.nodeId, config.nodeTypes, JSON.stringify(queues), tasks.map((t) => t.id), hostname(), process.pid, config.leaseTtlMs, this.build, this.taskKeys,
    ]);
    await this.setDraining(Boolean(rows[0]?.draining));
  }

  /** A control notification may mean a drain (`durable nodes drain`): read it now rather than at the next heartbeat. */
  private async readDrained(): Promise<void> {
    try {
      const { rows } = await this.deps.pool.query(buildDrained(this.deps.quotedSchema), [this.build]);
      await this.setDraining(Boolean(rows[0]?.drained));
    } catch (error) {
      this.report("reading whether the build is drained", error);
    }
  }

  /** Applies the drained flag of this node's build (read at registration and on every heartbeat). */
  async setDraining(draining: boolean): Promise<void> {
    if (await this.drain.update(draining, this.build, [...this.producers.keys()])) this.wakeAll();
  }

  /**
   * Which (task id, body hash) pairs this node claims, and which of its
   * stubs runs each (taskRoutes):
   * - its own versions, each run by its own stub;
   * - a version recorded under another id whose body this node has in the
   *   same file: the call site moved (a call added or removed above it in
   *   the same function shifts the ordinal in its id; reordered routes).
   *   Same file and same hash is the same code with the same module
   *   bindings, so the job runs that stub, whatever the policy says;
   * - other versions of its ids the body-hash policy accepts (an edited
   *   closure), run by the id's current stub. Not when that stub's own body
   *   was recorded under another id of its file: then the id now names
   *   another call site than the one that recorded the job (swapped lines),
   *   and running it would run someone else's code. Those wait, as held
   *   versions do, for a node that has their body.
   */
  async refreshTasks(): Promise<void> {
    const { pool, quotedSchema, config, catalog } = this.deps;
    const tasks = knownTasks();
    await catalog.ensure(pool, tasks);
    const keys = new Set(tasks.map((t) => `${t.id}:${t.hash}`));
    const routes = new Map<string, string>();
    if (tasks.length > 0) {
      const local = new Map(tasks.map((t) => [t.id, t]));
      const byFileHash = new Map<string, string>();
      for (const t of tasks) if (!byFileHash.has(`${t.caller.file}\0${t.hash}`)) byFileHash.set(`${t.caller.file}\0${t.hash}`, t.id);
      const { rows } = await pool.query(sql.taskVersions(quotedSchema), [[...local.keys()], [...new Set(tasks.map((t) => t.hash))]]);
      const moved = new Set<string>();
      for (const row of rows) {
        if (local.get(row.task_id)?.hash === row.body_hash) continue;
        const here = byFileHash.get(`${row.file}\0${row.body_hash}`);
        if (here === undefined || here === row.task_id) continue;
        moved.add(here);
        keys.add(`${row.task_id}:${row.body_hash}`);
        routes.set(`${row.task_id}:${row.body_hash}`, here);
      }
      if (config.bodyHashPolicy !== "hold") {
        for (const row of rows) {
          const mine = local.get(row.task_id);
          const key = `${row.task_id}:${row.body_hash}`;
          if (!mine || keys.has(key) || moved.has(mine.id)) continue;
          const names = Array.isArray(row.capture_names) ? [...row.capture_names].sort().join(",") : null;
          if (config.bodyHashPolicy === "always" || names === [...mine.captures].sort().join(",")) keys.add(key);
        }
      }
    }
    this.taskRoutes = routes;
    const changed = keys.size !== this.taskKeys.length || this.taskKeys.some((k) => !keys.has(k));
    this.taskKeys = [...keys];
    // Registered already: the row's keys say what this node claims, for the waiting check and the discard.
    if (changed && this.build) await this.register();
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
    const { pool, quotedSchema, config } = this.deps;
    try {
      await syncRuntimeQueues(pool, quotedSchema, config.nodeTypes, this, this.runtimeQueues);
      const { rows } = await pool.query(sql.queueControls(quotedSchema), [[...this.producers.keys()]]);
      const byName = new Map(rows.map((r) => [r.name, r]));
      for (const [name, producer] of this.producers) {
        const row = byName.get(name);
        producer.setControl({
          paused: Boolean(row?.paused),
          concurrency: row?.concurrency ?? null,
          globalConcurrency: row?.global_concurrency ?? null,
          rateLimit: row?.rate_limit_allowed ? { allowed: row.rate_limit_allowed, periodMs: row.rate_limit_period_ms, by: row.rate_limit_by ? String(row.rate_limit_by).split(".") : null } : null,
        });
      }
    } catch (error) {
      this.report("reading queue controls", error);
    }
  }

  private onJobsDone(ids: string[]): void {
    // Claimed ahead here but finished elsewhere (cancelled): never start them.
    for (const p of this.producers.values()) if (p.state.buffer.length > 0) p.dropBuffered(ids);
    const running = ids.filter((id) => this.isRunning(id));
    if (running.length > 0) void this.abortCancelled(running);
    for (const p of this.producers.values()) if (p.limited || p.keyedWaiting) p.wake();
  }

  private isRunning(jobId: string): boolean {
    for (const p of this.producers.values()) if (p.running.has(jobId)) return true;
    return false;
  }

  /** Aborts the signal of jobs running here whose row was cancelled (durable.jobs.cancel from any process), and drops such jobs claimed ahead. */
  async abortCancelled(ids: string[] = [...this.producers.values()].flatMap((p) => [...p.running.keys(), ...p.buffered])): Promise<void> {
    if (ids.length === 0) return;
    try {
      const { rows } = await this.deps.pool.query(sql.cancelledAmong(this.deps.quotedSchema), [ids]);
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

  /**
   * Graceful stop, bounded even when the database is gone: no new claims;
   * running jobs get until `deadlineMs`; the rest go back to the queue at
   * once; outcomes still queued get what is left (at least a second, to try
   * once). Resolves by max(deadlineMs, the end of the jobs' wait + 1 s).
   */
  private hurryUp: () => void = () => undefined;
  private readonly hurried = new Promise<void>((resolve) => (this.hurryUp = resolve));

  /** A second stop signal: running jobs stop getting their grace; the stop hands them back now. */
  hurry(): void {
    this.hurryUp();
  }

  async stop(deadlineMs: number): Promise<void> {
    // The heartbeat and the cancel check run on until the jobs running here
    // have finished or been handed back: with the lease lapsing during the
    // grace, another node would rescue a job still running here and run it
    // twice. So does the done subscription (a cancel aborts the closure).
    const [keep, others] = [this.services.filter((s) => s.spec.whileJobsRun), this.services.filter((s) => !s.spec.whileJobsRun)];
    for (const u of this.unsubscribe.splice(0)) u();
    const services = Promise.all(others.map((s) => s.stop()));
    const held = await Promise.all([...this.producers.values()].map((p) => p.stop(deadlineMs, this.hurried)));
    const last = finalDeadline(deadlineMs);
    const unstarted = held.flatMap((h) => h.unstarted);
    const started = held.flatMap((h) => h.started);
    if (unstarted.length > 0 || started.length > 0) await settleBy(last, this.release(unstarted, started));
    await this.completer.drain(last);
    this.unsubscribeDone?.();
    this.unsubscribeDone = null;
    await settleBy(last, Promise.all([services, ...keep.map((s) => s.stop())]));
    const { pool, quotedSchema } = this.deps;
    await settleBy(last, pool.query(sql.unregisterNode(quotedSchema), [this.nodeId]).catch((error) => this.report("unregistering the node", error)));
  }

  /** Hands back what this node still holds when it stops: jobs never started as they were, interrupted ones with their attempt counted. */
  private async release(unstarted: string[], started: string[]): Promise<void> {
    const { pool, quotedSchema, config, events } = this.deps;
    try {
      if (unstarted.length > 0) await pool.query(sql.releaseJobs(quotedSchema), [unstarted, this.nodeId]);
      if (started.length > 0) {
        const { rows } = await pool.query(sql.interruptJobs(quotedSchema), [started, this.nodeId, config.shutdownGraceMs]);
        if (rows.length > 0) events.emit("job:rescue", { jobs: rows.map((r) => ({ id: r.id, state: r.state })) });
        for (const row of rows) if (row.state === "discarded") logDiscarded(config.logger, row);
      }
      config.logger.info("durable: released unfinished jobs to other nodes", { count: unstarted.length + started.length, interrupted: started.length });
    } catch (error) {
      this.report("releasing jobs on shutdown", error);
    } finally {
      for (const p of this.producers.values()) p.abortRunning();
    }
  }

}
