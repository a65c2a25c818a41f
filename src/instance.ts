import type pg from "pg";
import type { AsyncOptions } from "./config/options.js";
import { recordCallIfRecording } from "./config/job-semantics.js";
import { normalizeStartOptions, type NormalizedStart, type StartOptions } from "./config/start.js";
import { currentContext, type JobContext } from "./context.js";
import { loadNotifyKey } from "./db/carried-results.js";
import { channels, logDatabase, migrate, namedStatementsEnabled, Notifier, planConnections, quoteSchema, requireCurrentSchema, resolveDatabase, type ResolvedDatabase } from "./db/index.js";
import { guardPassedPool } from "./db/pool-like.js";
import { installStopSignals } from "./stop-signals.js";
import { DurableError, DurableStoppedError, InvalidOptionError, UntransformedCallError } from "./errors.js";
import { DurableEmitter, type DurableEvents, type EventName } from "./events/index.js";
import { insertPrepared, prepare, stubsOf, TaskCatalog, type EnqueueItem, type JobHandle, type PreparedItem } from "./enqueue/index.js";
import { joinBulk, runBulk, type BulkOwner } from "./enqueue/bulk.js";
import { CallItems } from "./enqueue/call-item.js";
import { GroupCommit } from "./enqueue/group-commit.js";
import { hasDependencies, insertWithDependencies } from "./steps/after.js";
import { reportInsertFailure, wasReported } from "./enqueue/report.js";
import { Awaiter, type AwaitOptions } from "./await/index.js";
import { Runner } from "./runner/index.js";
import { NodePresence } from "./presence.js";
import { finalDeadline, settleBy } from "./runner/deadline.js";
import { isTaskStub, type TaskStub } from "./tasks/registry.js";
import { callSiteFromStack, markCallBoundary, untransformedHint } from "./tasks/call-site.js";
import { plainCodec, type Codec } from "./serialize/codec.js";
import { createCodec } from "./serialize/encryption.js";
import { describe, parseDuration } from "./config/duration.js";
import { MAX_TIMER_MS } from "./config/limits.js";
import { captureTrace, instrumentMetrics, telemetryReady } from "./telemetry/index.js";
import { queueDepth } from "./telemetry/queries.js";
import { CronScheduler, cronSpec, jobRecorder, ScheduleControls, type CronOptions } from "./cron/index.js";
import { createJobsApi, QueueControls, type DurableTarget, type JobsApi } from "./control/index.js";
import { NodesApi } from "./nodes/index.js";


/**
 * One configured durable runtime: a pool, a schema, optionally a runner.
 * `durable` (the default export) wraps one lazily; tests create their own.
 */
export class DurableInstance implements BulkOwner {
  readonly events = new DurableEmitter();
  readonly config: NormalizedStart;
  readonly quotedSchema: string;
  private db: ResolvedDatabase | null = null;
  /** Removes our 'error' listener from a pool passed in without one (db/pool-like.ts guardPassedPool). */
  private unguardPool: (() => void) | null = null;
  private starting: Promise<void> | null = null;
  private notifier: Notifier | null = null;
  private awaiter: Awaiter | null = null;
  runner: Runner | null = null;
  private presence: NodePresence | null = null;
  private readonly catalog: TaskCatalog;
  private readonly callItems: CallItems;
  private readonly inflight = new Set<Promise<unknown>>();
  /** Single calls on the pool: concurrent ones share one insert (enqueue/group-commit.ts). */
  private readonly group = new GroupCommit((prepared) => this.insertStarted(prepared));
  private removeStopSignals: (() => void) | null = null;
  codec: Codec = plainCodec;
  /** "stopping": running jobs finish and may still enqueue; "stopped": everything fails with DurableStoppedError. */
  private stopPhase: "running" | "stopping" | "stopped" = "running";
  private detachMetrics: (() => void) | null = null;
  /** Issue 4: queue control, job reports/control, cron entries (evaluated only where a runner runs). */
  readonly queues = new QueueControls(() => this.target());
  readonly jobs: JobsApi = createJobsApi(() => this.target());
  /** Cron entries as stored: list, pause, resume, retime, cluster-wide. */
  readonly schedules = new ScheduleControls(() => this.target(), { record: (fn) => jobRecorder(() => this.codec, this.config)(fn), catalog: () => this.catalog });
  readonly nodes = new NodesApi(() => this.target());
  private readonly crons = new CronScheduler();
  private readonly cronCalls: Array<Parameters<DurableInstance["cron"]>> = [];

  constructor(options: StartOptions = {}) {
    this.config = normalizeStartOptions(options);
    this.quotedSchema = quoteSchema(this.config.schema);
    this.codec = createCodec(this.config.encryption);
    this.catalog = new TaskCatalog(this.quotedSchema);
    this.callItems = new CallItems(this.config);
  }

  get pool(): pg.Pool {
    if (!this.db) throw new DurableError("DURABLE_NOT_STARTED", "The database is not connected yet. Await durable.start() first.");
    return this.db.pool;
  }

  get started(): boolean {
    return this.db !== null;
  }

  /** True once stop() was called (while it drains, too). */
  get stopped(): boolean {
    return this.stopPhase !== "running";
  }

  /** True while start() runs or after it succeeded, until stop(). */
  get active(): boolean {
    return this.starting !== null && this.stopPhase === "running";
  }

  get channels() {
    return channels(this.config.schema);
  }

  start(): Promise<void> {
    // While stopping, jobs that are still finishing may enqueue and await on the open pool.
    if (this.stopPhase === "stopped" || (this.stopPhase === "stopping" && !this.starting)) return Promise.reject(new DurableStoppedError());
    this.starting ??= this.doStart().catch(async (error) => {
      this.starting = null;
      await this.teardownConnections();
      this.db = null;
      throw error;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const { config } = this;
    // Settled before the runner starts, so the first claimed job already gets its span.
    const otel = await telemetryReady;
    const db = await resolveDatabase(config.database, config.poolSize);
    if (!config.run && db.ownsPool) (db.pool as any).options.allowExitOnIdle = true;
    this.db = db;
    if (!db.ownsPool) this.unguardPool ??= guardPassedPool(db.pool, config.logger);
    logDatabase(db, config.schema, config.logger);
    const plan = await planConnections({ ...config, pool: db.pool, connection: db.connection, logger: config.logger });
    if (config.migrate) await migrate(db.pool, config.schema);
    else await requireCurrentSchema(db.pool, config.schema);
    const runsJobs = config.run && Object.keys(config.queues).length > 0;
    if (plan.listen) {
      this.notifier = new Notifier(plan.listen, config.schema, config.logger, config.run, runsJobs ? ["insert", "done", "control"] : ["done"]);
      await this.notifier.start();
    }
    const notifyKey = config.notifyResults ? await loadNotifyKey(db.pool, this.quotedSchema, config.logger) : null;
    this.awaiter = new Awaiter(db.pool, this.quotedSchema, this.codec, this.notifier, notifyKey);
    if (runsJobs) {
      this.runner = new Runner({ pool: db.pool, quotedSchema: this.quotedSchema, schema: config.schema, config, events: this.events, notifier: this.notifier, codec: this.codec, catalog: this.catalog, notifyKey });
      await this.runner.start();
      this.crons.start({
        pool: db.pool, quotedSchema: this.quotedSchema, insertChannel: this.channels.insert, logger: config.logger, onError: (during, error) => this.reportError(during, error),
        refreshIntervalMs: Math.max(config.pollIntervalMs, 1_000),
      });
      // A schedule changed from the API (pause, retime) re-arms at once; the refresh timer is the fallback.
      this.notifier?.on("control", ({ queue }) => void (queue.startsWith("cron:") && this.crons.refresh()));
    } else {
      this.presence = new NodePresence(db.pool, this.quotedSchema, config);
      await this.presence.start();
    }
    if (config.handleSignals) this.removeStopSignals = installStopSignals({ logger: config.logger, stop: () => this.stop(), hurry: () => this.runner?.hurry() });
    // Optional OpenTelemetry metrics; a no-op without @opentelemetry/api.
    if (otel) {
      this.detachMetrics = instrumentMetrics({ events: this.events, depth: async () => (await db.pool.query(queueDepth(this.quotedSchema))).rows });
    }
  }

  on<E extends EventName>(event: E, listener: (payload: DurableEvents[E]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Resolves the stub/captures/options triple the transformer emits, or explains why the call is wrong. */
  private item(method: string, stub: unknown, captures: unknown, options: unknown): EnqueueItem {
    return this.callItems.item(method, stub, captures, options);
  }

  private prepare(item: EnqueueItem, trace: string | null): PreparedItem {
    return prepare(item, this.codec, trace, this.config.maxCaptureBytes);
  }

  /**
   * Enqueues one job. Validation and serialization happen now, so bad input
   * throws at the call site; the insert happens asynchronously. An insert
   * failure is always logged and emitted, even if nobody awaits the promise.
   */
  async<T = unknown>(stub: TaskStub | (() => T), captures?: Record<string, unknown>, options?: AsyncOptions): Promise<JobHandle<Awaited<T>>> {
    // Inside an onDiscard hook function: the call is recorded, not inserted.
    const recorded = recordCallIfRecording([stub, captures, options]);
    if (recorded) return recorded;
    // Prepared first: a bad capture throws here, at the call, not as a rejection.
    const prepared = this.prepare(this.item("async", stub, captures, options), captureTrace());
    // Inside durable.bulk(): collected now, inserted with the others.
    const inBulk = joinBulk(this, prepared);
    if (inBulk) return inBulk as Promise<JobHandle<Awaited<T>>>;
    // In the caller's transaction (`client`) the insert is theirs alone; on the pool it may share a group.
    const insert = prepared.item.options.client ? this.insert([prepared]).then((handles) => handles[0]!) : this.insertGrouped(prepared);
    return this.reported(insert, [prepared]) as Promise<JobHandle<Awaited<T>>>;
  }

  /** Enqueues many jobs in one round trip per 5,000. Items are [stub, captures, options?] as the transformer emits. */
  asyncMany(items: Array<[TaskStub, Record<string, unknown>, AsyncOptions?]>): Promise<JobHandle[]> {
    if (!Array.isArray(items)) throw new InvalidOptionError("items", `expected an array of [stub, captures, options], got ${describe(items)}.`);
    const prepared = items.map(([stub, captures, options]) => this.prepare(this.item("asyncMany", stub, captures, options), captureTrace()));
    return this.reported(this.insert(prepared), prepared);
  }

  /**
   * Runs `fn` and inserts every durable.async() call it makes in one round
   * trip (per 5,000 jobs). Each call's promise resolves with its handle after
   * that insert commits. A failure is logged and emitted like a single
   * call's, so neither this promise nor the calls' promises need a handler.
   */
  bulk(fn: () => unknown): Promise<JobHandle[]> {
    if (typeof fn !== "function") throw new InvalidOptionError("fn", `durable.bulk() expects a function that calls durable.async(), got ${describe(fn)}.`);
    const result = runBulk(this, fn);
    result.catch((error) => {
      if (!wasReported(error)) this.config.logger.error("durable: durable.bulk() callback threw; the jobs it enqueued were not inserted", { error: (error as Error)?.message ?? String(error) });
    });
    return result;
  }

  /** BulkOwner: one tracked insert of a bulk scope's rows. */
  insertMany(prepared: PreparedItem[]): Promise<JobHandle[]> {
    const promise = this.insert(prepared);
    this.inflight.add(promise);
    promise.catch(() => undefined).finally(() => this.inflight.delete(promise));
    return promise;
  }

  /** BulkOwner: logs and emits a failed insert, once per task and caller. */
  reportInsertFailure(error: unknown, prepared: PreparedItem[]): void {
    reportInsertFailure(this.events, this.config.logger, error, prepared);
  }

  private async insert(prepared: PreparedItem[]): Promise<JobHandle[]> {
    if (prepared.length === 0) return [];
    await this.start();
    return this.insertStarted(prepared).catch((error) => this.explainStopped(error));
  }

  /** An insert that raced the end of stop() lost its pool: say why. */
  private explainStopped(error: unknown): never {
    throw this.stopPhase === "stopped" && !(error instanceof DurableError) ? new DurableStoppedError() : error;
  }

  private async insertGrouped(prepared: PreparedItem): Promise<JobHandle> {
    await this.start();
    return this.group.submit(prepared).catch((error) => this.explainStopped(error));
  }

  private async insertStarted(prepared: PreparedItem[]): Promise<JobHandle[]> {
    const client = prepared[0]!.item.options.client;
    if (client && prepared.some((p) => p.item.options.client !== client)) {
      throw new InvalidOptionError("client", "all jobs of one bulk insert must use the same client.");
    }
    await this.catalog.ensure(this.pool, stubsOf(prepared));
    const target = client ?? this.pool;
    const handles = hasDependencies(prepared)
      ? await insertWithDependencies(target, this.quotedSchema, prepared, (c) => insertPrepared(c, this.quotedSchema, this.channels.insert, prepared))
      : await insertPrepared(target, this.quotedSchema, this.channels.insert, prepared, !client && namedStatementsEnabled(this.pool));
    // The payload is one object per job: built only when someone listens (telemetry, the dashboard's feed).
    if (this.events.listenerCount("job:insert") > 0) {
      this.events.emit("job:insert", { jobs: handles.map((h) => ({ id: h.id, queue: h.queue, task: h.task, conflict: h.conflict })) });
    }
    return handles;
  }

  /** An insert nobody has to await: tracked for stop(), and reported (logged and emitted) if it fails. */
  private reported<T>(promise: Promise<T>, prepared: PreparedItem[]): Promise<T> {
    this.inflight.add(promise);
    promise
      .catch((error) => this.reportInsertFailure(error, prepared))
      .finally(() => this.inflight.delete(promise));
    return promise;
  }

  await<T = unknown>(handleOrId: JobHandle<any> | string | number, options?: AwaitOptions): Promise<T> {
    return this.start()
      .then(() => this.awaiter!.await<T>(handleOrId, options))
      .catch((error) => {
        // A wait cut short by stop() ends the pool under it: say why, not "Cannot use a pool after calling end".
        throw this.stopPhase === "stopped" && !(error instanceof DurableError) ? new DurableStoppedError() : error;
      });
  }

  awaitAll<T extends readonly unknown[]>(handles: T, options?: AwaitOptions): Promise<{ [K in keyof T]: T[K] extends JobHandle<infer R> ? R : unknown }> {
    if (!Array.isArray(handles)) throw new InvalidOptionError("jobs", `expected an array of job handles or ids, got ${describe(handles)}.`);
    return Promise.all(handles.map((h) => this.await(h as JobHandle<unknown>, options))) as any;
  }

  /** Enqueue and wait for the result. `timeout` bounds both the wait and each attempt. */
  run<T = unknown>(stub: TaskStub | (() => T), captures?: Record<string, unknown>, options?: AsyncOptions): Promise<Awaited<T>> {
    if (typeof stub === "function") throw new UntransformedCallError("run", callSiteFromStack(), untransformedHint());
    // Not an async method: bad input throws here, at the call, as durable.async does.
    return this.async(stub, captures, options).then((handle) => this.await<Awaited<T>>(handle, { timeout: options?.timeout ?? "5m" }));
  }

  /**
   * durable.cron(expr, stub, captures, options) as the transformer emits it.
   * Validates now; every node that runs jobs evaluates the entry, and each
   * tick inserts one job across all of them.
   */
  cron(expression: string, stub: TaskStub | (() => unknown), captures?: Record<string, unknown>, options?: CronOptions): { name: string; nextRun(): Date | null } {
    if (typeof stub === "function") throw new UntransformedCallError("cron", callSiteFromStack(), untransformedHint());
    const spec = cronSpec(expression, options, isTaskStub(stub) ? stub.id : "");
    // The module's own stub after its worker-side slice's (the module loaded after the slice ran) replaces the entry.
    const existing = this.crons.get(spec.name);
    if (existing && (!isTaskStub(stub) || existing.stub.id !== stub.id || existing.stub === stub)) {
      throw new InvalidOptionError("name", `"${spec.name}" is already used by another cron entry; give each entry its own name.`);
    }
    const item = this.item("cron", stub, captures, spec.jobOptions);
    this.prepare(item, null);
    this.cronCalls.push([expression, stub, captures, options]);
    this.crons.add({
      ...spec,
      stub: item.stub,
      insert: async (client) => {
        // Prepared per tick: a deadline counts from the tick's insert, and a hook snapshots its captures then.
        const prepared = this.prepare(this.item("cron", stub, captures, spec.jobOptions), null);
        await this.catalog.ensure(this.pool, stubsOf([prepared]));
        const [handle] = await insertPrepared(client, this.quotedSchema, this.channels.insert, [prepared]);
        this.events.emit("job:insert", { jobs: [{ id: handle!.id, queue: handle!.queue, task: handle!.task, conflict: handle!.conflict }] });
        return handle!;
      },
    });
    return { name: spec.name, nextRun: () => spec.schedule.nextRun() };
  }

  /** The facade registers module-level cron entries before durable.start() replaces its instance; carry them over. */
  adoptCron(from: DurableInstance): void {
    for (const call of from.cronCalls) this.cron(...call);
  }

  private async target(): Promise<DurableTarget> {
    await this.start();
    return { pool: this.pool, quotedSchema: this.quotedSchema, channels: this.channels };
  }

  private reportError(during: string, error: unknown): void {
    const e = error instanceof Error ? error : new Error(String(error));
    this.events.emit("node:error", { error: e, during });
    this.config.logger.warn(`durable: ${during} failed`, { error: e.message });
  }

  context(): JobContext {
    return currentContext();
  }

  private stopDone: Promise<void> = Promise.resolve();

  /** Stops fetching, lets running jobs finish within the grace period, releases the rest, waits for inserts in flight. */
  async stop(options: { grace?: string | number } = {}): Promise<void> {
    if (this.stopPhase !== "running") return this.stopDone;
    const graceMs = options?.grace === undefined ? this.config.shutdownGraceMs : Math.min(parseDuration("grace", options.grace), MAX_TIMER_MS);
    this.stopPhase = "stopping";
    // Bounded even when the database does not answer: running jobs get the
    // grace period, each step after it at least a second (runner/deadline.ts).
    const deadline = Date.now() + graceMs;
    this.stopDone = (async () => {
      await this.starting?.catch(() => undefined);
      await settleBy(finalDeadline(deadline), Promise.allSettled([...this.inflight]));
      await settleBy(finalDeadline(deadline), this.crons.stop());
      if (this.runner) await this.runner.stop(deadline);
      await settleBy(finalDeadline(deadline), this.presence?.stop() ?? Promise.resolve());
      // Jobs that finished within the grace period may have enqueued follow-ups.
      await settleBy(finalDeadline(deadline), Promise.allSettled([...this.inflight]));
      this.removeStopSignals?.();
      this.removeStopSignals = null;
      this.stopPhase = "stopped";
      await settleBy(finalDeadline(deadline), this.teardownConnections());
    })();
    return this.stopDone;
  }

  private async teardownConnections(): Promise<void> {
    // With run: false the connections are unref'd (allowExitOnIdle), so the
    // loop can empty before client.end()/pool.end() settle, and a top-level
    // `await durable.stop()` exits with code 13. Hold the loop open meanwhile.
    const hold = setInterval(() => undefined, 1_000);
    try {
      this.detachMetrics?.();
      this.detachMetrics = null;
      await this.notifier?.stop();
      this.notifier = null;
      if (this.db?.ownsPool) await this.db.pool.end().catch(() => undefined);
      this.unguardPool?.();
      this.unguardPool = null;
    } finally {
      clearInterval(hold);
    }
  }
}

markCallBoundary(DurableInstance.prototype.async, DurableInstance.prototype.asyncMany, DurableInstance.prototype.run, DurableInstance.prototype.cron);
