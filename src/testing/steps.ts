import { describe, parseDuration } from "../config/duration.js";
import { callerOf, type JobHandle } from "../enqueue/index.js";
import { InvalidOptionError, ResultTooLargeError } from "../errors.js";
import { jobIdOf } from "../await/index.js";
import { bytesOver } from "../serialize/text.js";
import { deserialize, serializeChecked } from "../serialize/values.js";
import type { StepCalls } from "../steps/current.js";
import { Journal, type JournalEntry, type StepSlot } from "../steps/journal.js";
import { callSiteFromStack } from "../tasks/call-site.js";
import type { TaskStub } from "../tasks/registry.js";
import type { EnqueuedJob } from "./store.js";

// The step journal of src/steps (StepScope), kept in memory: inside a job
// run by a testing mode, durable.async/run/await/awaitAll/step/sleep are
// steps keyed as a worker keys them (stub id and occurrence, or the step's
// name), matched against the job's journal by the same Journal class. A
// retry replays: a child step returns the child created the first time, an
// inline step its recorded value (as JSON text, so every replay gets a
// fresh copy), a timer that is due returns at once, and a replay that
// reaches another step where one was recorded fails with NondeterminismError.
// What is not modelled: suspension. An await of an unfinished job runs it
// in place (see TestingRuntime.awaitInJob) and a sleep waits in place,
// where a worker would suspend the execution and replay it later.

/** What a step scope needs of the testing runtime. */
export interface StepHost {
  readonly maxResultBytes: number;
  /** Validates and serializes a child at its call (throws there), as StepRuntime.prepare does. */
  prepare(method: "async" | "run", stub: unknown, captures: unknown, options: unknown): unknown;
  /** Records the prepared child (or finds its unique conflict); in inline mode runs it when it is due. */
  enqueue(prepared: unknown): { job: EnqueuedJob; done: Promise<JobHandle> };
  /** The handle of a recorded job as it stands now, if it is still recorded. */
  handle(id: string): JobHandle | null;
  /** An await inside a running job: runs the awaited job if it has not ended, then its result or error; past `deadline`, AwaitTimeoutError. */
  awaitInJob(id: string, deadline: Deadline | null): Promise<unknown>;
}

/** A timed await's journaled deadline. */
export interface Deadline {
  at: Date;
  timeoutMs: number;
}

const journals = new WeakMap<EnqueuedJob, Journal>();

/** A job's journal, kept across its attempts. */
function journalOf(job: EnqueuedJob): Journal {
  let journal = journals.get(job);
  if (!journal) journals.set(job, (journal = new Journal(job.id, [])));
  return journal;
}

const abandoned = <T>(): Promise<T> => new Promise<T>(() => undefined);
const isChild = (kind: string) => kind === "async" || kind === "run";

/** One execution of one job in a testing mode; see StepScope for the real one. */
/** One execution of one job in a testing mode; see StepScope for the real one. */
export class TestingSteps implements StepCalls {
  private readonly journal: Journal;
  private readonly occurrences = new Map<string, number>();
  private nextPosition = 0;
  private state: "running" | "diverged" | "finished" = "running";
  private diverge!: (error: unknown) => void;
  /** Rejects when the replay diverged from the journal: the attempt fails with that error, whatever the closure does. */
  readonly interruption: Promise<never>;
  private collecting: Promise<JobHandle>[] | null = null;

  constructor(private readonly job: EnqueuedJob, private readonly host: StepHost) {
    this.journal = journalOf(job);
    this.interruption = new Promise<never>((_, reject) => (this.diverge = reject));
    this.interruption.catch(() => undefined);
  }

  get open(): boolean {
    return this.state !== "finished";
  }

  finish(): void {
    if (this.state === "running") this.state = "finished";
  }

  async(stub: unknown, captures?: unknown, options?: unknown): Promise<JobHandle> {
    if (this.state === "diverged") return abandoned();
    const prepared = this.host.prepare("async", stub, captures, options);
    const handle = this.child(this.slot((stub as TaskStub).id, "async", callerOf(stub as TaskStub)), prepared);
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
    if (this.state === "diverged") return abandoned();
    const prepared = this.host.prepare("run", stub, captures, options);
    return this.child(this.slot((stub as TaskStub).id, "run", callerOf(stub as TaskStub)), prepared).then((handle) => this.waitFor(handle.id));
  }

  async await(job: unknown, options?: unknown): Promise<unknown> {
    const timeoutMs = awaitTimeoutMs(options);
    const deadline = timeoutMs === null ? null : this.deadline(timeoutMs);
    return this.waitFor(jobIdOf(await job), deadline);
  }

  async awaitAll(jobs: unknown, options?: unknown): Promise<unknown[]> {
    if (!Array.isArray(jobs)) throw new InvalidOptionError("jobs", `expected an array of job handles (or their promises), got ${describe(jobs)}.`);
    const timeoutMs = awaitTimeoutMs(options);
    const deadline = timeoutMs === null ? null : this.deadline(timeoutMs);
    return Promise.all(jobs.map(async (job) => this.waitFor(jobIdOf(await job), deadline)));
  }

  /** A timed await's deadline, journaled like a timer: every replay sees the same moment. */
  private deadline(timeoutMs: number): Deadline {
    const slot = this.slot("durable.await", "sleep", callSiteFromStack());
    let entry = this.find(slot);
    if (!entry) this.journal.add((entry = entryOf(slot, { wake_at: new Date(Date.now() + timeoutMs) })));
    return { at: entry.wake_at ?? new Date(), timeoutMs };
  }

  async step(fn: unknown, options?: unknown): Promise<unknown> {
    if (typeof fn !== "function") throw new InvalidOptionError("fn", `durable.step() expects a function like () => chargeCard(user.id), got ${describe(fn)}.`);
    const name = stepName(options);
    const slot = this.slot(name === null ? "durable.step" : `durable.step:${name}`, "step", callSiteFromStack(), name ?? "durable.step");
    const entry = this.find(slot);
    if (entry) return recorded(entry);
    if (this.state === "diverged") return abandoned();
    const value = await (fn as () => unknown)();
    // Stored as a job result is: serialized, capped by maxResultBytes (src/steps/inline.ts).
    const text = JSON.stringify(serializeChecked(value, "result", `durable.step()${slot.caller ? ` at ${slot.caller}` : ""}`));
    const over = bytesOver(text, this.host.maxResultBytes);
    if (over !== null) throw new ResultTooLargeError(over, this.host.maxResultBytes);
    const stored = entryOf(slot, { value: text });
    this.journal.add(stored);
    return recorded(stored);
  }

  async sleep(duration: unknown): Promise<void> {
    const ms = parseDuration("duration", duration);
    const slot = this.slot("durable.sleep", "sleep", callSiteFromStack());
    let entry = this.find(slot);
    if (!entry) {
      if (this.state === "diverged") return abandoned();
      this.journal.add((entry = entryOf(slot, { wake_at: new Date(Date.now() + ms) })));
    }
    const left = entry.wake_at!.getTime() - Date.now();
    // A worker suspends the job past its in-place wait; here the attempt waits the time out.
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
  }

  private slot(base: string, kind: StepSlot["kind"], caller: string | null | undefined, taskId = base): StepSlot {
    const n = this.occurrences.get(base) ?? 0;
    this.occurrences.set(base, n + 1);
    return { key: `${base}#${n}`, position: this.nextPosition++, kind, taskId, caller: caller ?? null };
  }

  /** A child step: the recorded child on a replay, else a new one. */
  private async child(slot: StepSlot, prepared: unknown): Promise<JobHandle> {
    const entry = this.find(slot);
    if (entry) {
      return this.host.handle(entry.child_id!) ?? { id: entry.child_id!, task: entry.task_id, queue: entry.child_queue ?? "", state: "available", conflict: false };
    }
    if (this.state === "diverged") return abandoned();
    const { job, done } = this.host.enqueue(prepared);
    // Recorded before the child runs (a worker commits the child and its step row together).
    this.journal.add(entryOf(slot, { child_id: job.id, child_queue: job.queue }));
    return done;
  }

  private async waitFor(id: string, deadline: Deadline | null = null): Promise<unknown> {
    if (this.state === "diverged") return abandoned();
    return this.host.awaitInJob(id, deadline);
  }

  /** Looks a slot up in the journal; a divergence also ends the execution, even if the closure catches the error. */
  private find(slot: StepSlot): JournalEntry | undefined {
    try {
      const entry = this.journal.find(slot);
      if (entry && entry.kind !== slot.kind && !(isChild(entry.kind) && isChild(slot.kind))) this.journal.mismatch(entry, slot);
      return entry;
    } catch (error) {
      if (this.state === "running") {
        this.state = "diverged";
        this.diverge(error);
      }
      throw error;
    }
  }
}

/** A recorded inline step's value, as every replay gets it: a fresh copy. */
function recorded(entry: JournalEntry): unknown {
  return typeof entry.value === "string" ? deserialize(JSON.parse(entry.value)) : undefined;
}

function entryOf(slot: StepSlot, fields: Partial<JournalEntry>): JournalEntry {
  return {
    step_key: slot.key, position: slot.position, kind: slot.kind, task_id: slot.taskId, caller: slot.caller, child_id: null, value: null, wake_at: null,
    child_state: null, child_queue: null, child_result: null, child_error: null, ...fields,
  };
}

function awaitTimeoutMs(options: unknown): number | null {
  if (options === undefined || options === null) return null;
  if (typeof options !== "object") throw new InvalidOptionError("options", `durable.await(job, { timeout }) takes an options object, got ${describe(options)}.`);
  const timeout = (options as { timeout?: unknown }).timeout;
  return timeout === undefined ? null : parseDuration("timeout", timeout);
}

function stepName(options: unknown): string | null {
  if (options === undefined || options === null) return null;
  const name = typeof options === "object" ? (options as { name?: unknown }).name : undefined;
  if (typeof options !== "object" || (name !== undefined && (typeof name !== "string" || name === ""))) {
    throw new InvalidOptionError("name", `durable.step(fn, { name }) takes a non-empty string name, got ${describe(name ?? options)}.`);
  }
  return (name as string | undefined) ?? null;
}
