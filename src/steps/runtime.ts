import type pg from "pg";
import { normalizeAsyncOptions, type NormalizedJobOptions } from "../config/options.js";
import type { NormalizedStart } from "../config/start.js";
import { describe } from "../config/duration.js";
import type { Notifier } from "../db/notifier.js";
import { withTransaction } from "../db/tx.js";
import { insertPrepared, prepare, stubsOf, type JobHandle, type PreparedItem, type TaskCatalog } from "../enqueue/index.js";
import { DurableError, InvalidOptionError, UntransformedCallError } from "../errors.js";
import type { DurableEmitter } from "../events/index.js";
import type { Codec } from "../serialize/codec.js";
import { isTaskStub, type TaskStub } from "../tasks/registry.js";
import { callSiteFromStack, untransformedHint } from "../tasks/call-site.js";
import { captureTrace } from "../telemetry/index.js";
import { insertChildSteps } from "./queries.js";
import { hasDependencies, recordAfterInsert } from "./after.js";
import type { StepSlot } from "./journal.js";

export interface StepRuntimeDeps {
  pool: pg.Pool;
  quotedSchema: string;
  config: NormalizedStart;
  codec: Codec;
  catalog: TaskCatalog;
  events: DurableEmitter;
  notifier: Notifier | null;
  insertChannel: string;
}

/** One child to insert with its step row. */
export interface ChildInsert {
  prepared: PreparedItem;
  slot: StepSlot;
}

/** A runner's step machinery: what every execution's StepScope shares (pool, codec, options, done notices). */
export class StepRuntime {
  private readonly doneListeners = new Set<(ids: string[]) => void>();
  /**
   * How long an execution waits in place for the jobs it awaits before it
   * suspends (`stepWait`). Children that end within it cost no replay; past
   * it the slot is worth more than the wait (on a one-slot queue the
   * children cannot even start while the parent holds it).
   */
  readonly waitInPlaceMs: number;

  constructor(readonly deps: StepRuntimeDeps) {
    this.waitInPlaceMs = deps.config.stepWaitMs;
    deps.notifier?.on("done", ({ ids }) => {
      for (const listener of this.doneListeners) listener(ids);
    });
  }

  /** Called with the ids of jobs that reached a final state anywhere (when notifications are on). */
  onDone(listener: (ids: string[]) => void): () => void {
    this.doneListeners.add(listener);
    return () => this.doneListeners.delete(listener);
  }

  query(text: string, values: unknown[]): Promise<pg.QueryResult> {
    return this.deps.pool.query(text, values);
  }

  /** Validates and serializes a child at its call, as durable.async() does outside a job. */
  prepare(method: string, stub: unknown, captures: unknown, options: unknown): PreparedItem {
    if (typeof stub === "function") throw new UntransformedCallError(method, callSiteFromStack(), untransformedHint());
    if (!isTaskStub(stub)) throw new InvalidOptionError("task", `durable.${method}() expects a closure like () => sendEmail(user.id), got ${describe(stub)}.`);
    if (typeof captures !== "object" || captures === null || Array.isArray(captures)) {
      throw new InvalidOptionError("captures", `expected the captures object the transformer passes, got ${describe(captures)}.`);
    }
    const { config, codec } = this.deps;
    const normalized: NormalizedJobOptions = normalizeAsyncOptions(options, { maxAttempts: config.defaultMaxAttempts, timeoutMs: config.defaultTimeoutMs, nodeTypes: config.knownNodeTypes });
    if (normalized.client) {
      throw new InvalidOptionError("client", `inside a running job, durable.${method}() records the child in the job's journal in a transaction of its own; drop \`client\` there, or enqueue with it outside the job.`);
    }
    return prepare({ stub: stub as TaskStub, captures: captures as Record<string, unknown>, options: normalized }, codec, captureTrace(), config.maxCaptureBytes);
  }

  /**
   * Inserts children and their step rows in one transaction: a crash
   * between the two can never leave a child the journal does not know
   * (which a replay would create again).
   */
  async insertChildren(parentId: string, items: ChildInsert[]): Promise<JobHandle[]> {
    const { pool, quotedSchema, catalog, insertChannel, events } = this.deps;
    await catalog.ensure(pool, stubsOf(items.map((i) => i.prepared)));
    const handles = await withTransaction(pool, async (client) => {
      const prepared = items.map((i) => i.prepared);
      let inserted = await insertPrepared(client, quotedSchema, insertChannel, prepared);
      if (hasDependencies(prepared)) inserted = await recordAfterInsert(client, quotedSchema, prepared, inserted);
      const col = <T>(f: (item: ChildInsert, i: number) => T) => items.map(f);
      const { rowCount } = await client.query(insertChildSteps(quotedSchema), [
        parentId, col((i) => i.slot.key), col((i) => i.slot.position), col((i) => i.slot.kind), col((i) => i.slot.taskId), col((i) => i.slot.caller), col((_, n) => inserted[n]!.id),
      ]);
      if (rowCount !== items.length) {
        // A node presumed dead still ran this job: its steps stand, this attempt ends and the retry replays them.
        throw new DurableError("DURABLE_STEP_CONFLICT", `Another execution of job ${parentId} recorded these steps first; this attempt ends and the job's retry replays them.`);
      }
      return inserted;
    });
    if (events.listenerCount("job:insert") > 0) events.emit("job:insert", { jobs: handles.map((h) => ({ id: h.id, queue: h.queue, task: h.task, conflict: h.conflict })) });
    return handles;
  }
}
