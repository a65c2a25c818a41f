import { describe, parseDuration } from "../config/duration.js";
import { callerOf, type JobHandle } from "../enqueue/index.js";
import { AwaitTimeoutError, InvalidOptionError } from "../errors.js";
import { jobIdOf } from "../await/index.js";
import { callSiteFromStack } from "../tasks/call-site.js";
import type { TaskStub } from "../tasks/registry.js";
import type { StepCalls } from "./current.js";
import { deserialize } from "../serialize/values.js";
import { Journal, settlementOf, stepValuePlace, type JournalEntry, type StepSlot } from "./journal.js";
import { recordInlineValue, recordTimer } from "./inline.js";
import { loadJournal } from "./queries.js";
import type { ChildInsert, StepRuntime } from "./runtime.js";
import { endedAfter, StepWaiter, type Deadline } from "./waiter.js";

/**
 * How an execution ends apart from its closure, raced against it by the
 * executor: it stopped to wait, or its replay diverged from the journal
 * (the job fails whatever the closure does with the error).
 */
export type Interruption = Suspension | { kind: "diverged"; error: unknown };

export interface Suspension {
  kind: "suspended";
  /** Jobs it waits for (children, or any job it awaited). Empty: a timer alone. */
  waitingFor: string[];
  /** When a durable.sleep() is due, if one is what it waits for. */
  wakeAt: Date | null;
}

interface QueuedChild extends ChildInsert {
  resolve: (handle: JobHandle) => void;
  reject: (error: unknown) => void;
}

/** A promise that never settles: the calls of an execution that suspended are abandoned with it. */
const abandoned = <T>(): Promise<T> => new Promise<T>(() => undefined);

/**
 * One execution of one job: its step calls, keyed by (stub id, occurrence
 * of that stub in this execution), matched against the job's journal (read
 * once, lazily: a job that takes no step pays nothing).
 */
export class StepScope implements StepCalls {
  private loading: Promise<Journal> | null = null;
  private readonly occurrences = new Map<string, number>();
  private nextPosition = 0;
  private state: "running" | "suspended" | "finished" = "running";
  private interrupt!: (interruption: Interruption) => void;
  readonly interruption = new Promise<Interruption>((resolve) => (this.interrupt = resolve));
  private readonly waiter: StepWaiter;
  private queued: QueuedChild[] | null = null;
  /** The handles of durable.async() calls made inside durable.bulk(fn), while fn runs. */
  private collecting: Promise<JobHandle>[] | null = null;

  constructor(readonly jobId: string, private readonly runtime: StepRuntime) {
    this.waiter = new StepWaiter(runtime, (waitingFor, wakeAt) => this.suspend(waitingFor, wakeAt));
  }

  get open(): boolean {
    return this.state !== "finished";
  }

  /** The execution ended with a value or an error. */
  finish(): void {
    if (this.state === "running") this.state = "finished";
  }

  async(stub: unknown, captures?: unknown, options?: unknown): Promise<JobHandle> {
    if (this.state === "suspended") return abandoned();
    const prepared = this.runtime.prepare("async", stub, captures, options);
    const handle = this.child(this.slot((stub as TaskStub).id, "async", callerOf(stub as TaskStub)), { prepared });
    this.collecting?.push(handle);
    return handle;
  }

  async bulk(fn: () => unknown): Promise<JobHandle[]> {
    if (typeof fn !== "function") throw new InvalidOptionError("fn", `durable.bulk() expects a function that calls durable.async(), got ${describe(fn)}.`);
    const collected: Promise<JobHandle>[] = [];
    const outer = this.collecting;
    this.collecting = collected;
    try {
      await fn();
    } finally {
      this.collecting = outer;
    }
    return Promise.all(collected);
  }

  run(stub: unknown, captures?: unknown, options?: unknown): Promise<unknown> {
    if (this.state === "suspended") return abandoned();
    const prepared = this.runtime.prepare("run", stub, captures, options);
    return this.child(this.slot((stub as TaskStub).id, "run", callerOf(stub as TaskStub)), { prepared }).then((handle) => this.waitFor(handle.id));
  }

  async await(job: unknown, options?: unknown): Promise<unknown> {
    const timeoutMs = awaitTimeoutMs(options);
    const deadline = timeoutMs === null ? null : await this.deadline(timeoutMs);
    return this.waitFor(jobIdOf(await job), deadline);
  }

  async awaitAll(jobs: unknown, options?: unknown): Promise<unknown[]> {
    if (!Array.isArray(jobs)) throw new InvalidOptionError("jobs", `expected an array of job handles (or their promises), got ${describe(jobs)}.`);
    const timeoutMs = awaitTimeoutMs(options);
    const deadline = timeoutMs === null ? null : await this.deadline(timeoutMs);
    return Promise.all(jobs.map(async (job) => this.waitFor(jobIdOf(await job), deadline)));
  }

  /**
   * A timed await's deadline, journaled like a durable.sleep() timer: every
   * replay sees the same moment, so whether the await timed out does not
   * depend on when the replay runs.
   */
  private async deadline(timeoutMs: number): Promise<{ at: Date; timeoutMs: number }> {
    const slot = this.slot("durable.await", "sleep", callSiteFromStack());
    const found = await this.find(slot);
    let entry = found.entry;
    if (!entry) {
      if (this.state === "suspended") return abandoned();
      entry = (await recordTimer(this.runtime, this.jobId, slot, timeoutMs)).entry;
      found.journal.add(entry);
    }
    return { at: entry.wake_at ?? new Date(), timeoutMs };
  }

  async step(fn: unknown, options?: unknown): Promise<unknown> {
    if (typeof fn !== "function") throw new InvalidOptionError("fn", `durable.step() expects a function like () => chargeCard(user.id), got ${describe(fn)}.`);
    const name = stepName(options);
    const slot = this.slot(name === null ? "durable.step" : `durable.step:${name}`, "step", callSiteFromStack(), name ?? "durable.step");
    const { journal, entry } = await this.find(slot);
    if (entry) return this.recorded(entry);
    if (this.state === "suspended") return abandoned();
    const value = await (fn as () => unknown)();
    const stored = await recordInlineValue(this.runtime, this.jobId, slot, value);
    journal.add(stored);
    return this.recorded(stored);
  }

  async sleep(duration: unknown): Promise<void> {
    const ms = parseDuration("duration", duration);
    const slot = this.slot("durable.sleep", "sleep", callSiteFromStack());
    const found = await this.find(slot);
    const journal = found.journal;
    let entry = found.entry;
    let left: number;
    if (entry) left = entry.wake_at ? entry.wake_at.getTime() - Date.now() : 0;
    else {
      if (this.state === "suspended") return abandoned();
      const timer = await recordTimer(this.runtime, this.jobId, slot, ms);
      journal.add((entry = timer.entry));
      left = timer.leftMs;
    }
    if (left <= 0) return;
    if (left <= this.runtime.waitInPlaceMs) return new Promise((resolve) => setTimeout(resolve, left));
    this.suspend([], entry.wake_at);
    return abandoned();
  }

  private slot(base: string, kind: StepSlot["kind"], caller: string | null | undefined, taskId = base): StepSlot {
    const n = this.occurrences.get(base) ?? 0;
    this.occurrences.set(base, n + 1);
    return { key: `${base}#${n}`, position: this.nextPosition++, kind, taskId, caller: caller ?? null };
  }

  private journal(): Promise<Journal> {
    this.loading ??= this.runtime.query(loadJournal(this.runtime.deps.quotedSchema), [this.jobId]).then(({ rows }) => new Journal(this.jobId, rows as JournalEntry[]));
    return this.loading;
  }

  /** A recorded inline step: its value, as every replay returns it. */
  private recorded(entry: JournalEntry): unknown {
    return entry.value === null || entry.value === undefined ? undefined : deserialize(this.runtime.deps.codec.decode(entry.value, stepValuePlace(this.jobId, entry.step_key)));
  }

  /** A child step: the recorded child on a replay, else a new one (inserted with the others of this turn). */
  private async child(slot: StepSlot, child: { prepared: ChildInsert["prepared"] }): Promise<JobHandle> {
    const { entry } = await this.find(slot);
    if (entry) {
      return { id: entry.child_id!, task: entry.task_id, queue: entry.child_queue ?? child.prepared.row.queue, state: entry.child_state ?? "available", conflict: false };
    }
    if (this.state === "suspended") return abandoned();
    return new Promise<JobHandle>((resolve, reject) => {
      if (!this.queued) {
        this.queued = [];
        setImmediate(() => void this.insertQueued());
      }
      this.queued.push({ prepared: child.prepared, slot, resolve, reject });
    });
  }

  private async insertQueued(): Promise<void> {
    const items = this.queued ?? [];
    this.queued = null;
    try {
      const handles = await this.runtime.insertChildren(this.jobId, items);
      const journal = await this.journal();
      items.forEach((item, i) => {
        const handle = handles[i]!;
        journal.add(childEntry(item.slot, handle));
        item.resolve(handle);
      });
    } catch (error) {
      for (const item of items) item.reject(error);
    }
  }

  /**
   * Awaits a job: its recorded outcome if it ended, else a wait that may
   * suspend this execution. With a deadline, a job that ended after it (or
   * not at all by then) is an AwaitTimeoutError, on every replay alike.
   */
  private async waitFor(id: string, deadline: Deadline | null = null): Promise<unknown> {
    const known = (await this.journal()).childRow(id);
    const settlement = known ? settlementOf(known, this.runtime.deps.codec) : null;
    if (settlement && !(deadline && endedAfter(known!, deadline))) {
      if (settlement.ok) return settlement.value;
      throw settlement.error;
    }
    if (deadline && (settlement || Date.now() >= deadline.at.getTime())) throw new AwaitTimeoutError(id, deadline.timeoutMs);
    if (this.state === "suspended") return abandoned();
    return this.waiter.wait(id, deadline);
  }

  private suspend(waitingFor: string[], wakeAt: Date | null): void {
    if (this.state !== "running") return;
    this.state = "suspended";
    const all = [...new Set([...waitingFor, ...this.waiter.pendingIds()])];
    this.interrupt({ kind: "suspended", waitingFor: all, wakeAt });
  }

  /** Looks a slot up in the journal; a divergence also ends the execution, even if the closure catches the error. */
  private async find(slot: StepSlot): Promise<{ journal: Journal; entry: JournalEntry | undefined }> {
    const journal = await this.journal();
    try {
      const entry = journal.find(slot);
      if (entry && entry.kind !== slot.kind && !(isChild(entry.kind) && isChild(slot.kind))) journal.mismatch(entry, slot);
      return { journal, entry };
    } catch (error) {
      if (this.state === "running") {
        this.state = "suspended";
        this.interrupt({ kind: "diverged", error });
      }
      throw error;
    }
  }
}

const isChild = (kind: string) => kind === "async" || kind === "run";

function childEntry(slot: StepSlot, handle: JobHandle): JournalEntry {
  return {
    step_key: slot.key, position: slot.position, kind: slot.kind, task_id: slot.taskId, caller: slot.caller, child_id: handle.id, value: null, wake_at: null,
    child_state: handle.state, child_queue: handle.queue, child_result: null, child_error: null,
  };
}

function stepName(options: unknown): string | null {
  if (options === undefined || options === null) return null;
  const name = typeof options === "object" ? (options as { name?: unknown }).name : undefined;
  if (typeof options !== "object" || (name !== undefined && (typeof name !== "string" || name === ""))) {
    throw new InvalidOptionError("name", `durable.step(fn, { name }) takes a non-empty string name, got ${describe(name ?? options)}.`);
  }
  return (name as string | undefined) ?? null;
}

/** The `timeout` of durable.await/awaitAll options inside a job, in ms, or null without one. */
function awaitTimeoutMs(options: unknown): number | null {
  if (options === undefined || options === null) return null;
  if (typeof options !== "object") throw new InvalidOptionError("options", `durable.await(job, { timeout }) takes an options object, got ${describe(options)}.`);
  const timeout = (options as { timeout?: unknown }).timeout;
  return timeout === undefined ? null : parseDuration("timeout", timeout);
}
