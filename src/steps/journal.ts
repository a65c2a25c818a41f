import { JobCancelledError, JobFailedError, NondeterminismError, type RecordedError } from "../errors.js";
import { deserialize } from "../serialize/values.js";
import { sealPlaces, type Codec, type SealPlace } from "../serialize/codec.js";

/** Where an inline step's value is sealed (encryption at rest): the journal's column, the job and the step key. */
export const stepValuePlace = (jobId: string, stepKey: string): SealPlace => ({ column: "steps.value", row: [jobId, stepKey] });

/** One recorded step, as loadJournal returns it. */
export interface JournalEntry {
  step_key: string;
  position: number;
  kind: "async" | "run" | "step" | "sleep" | "after";
  task_id: string;
  caller: string | null;
  child_id: string | null;
  value: unknown;
  wake_at: Date | null;
  child_state: string | null;
  child_queue: string | null;
  child_result: unknown;
  child_error: RecordedError | null;
  child_finished_at?: Date | null;
}

/** Where a step call stands in its execution: its key, and the order it was reached in. */
export interface StepSlot {
  key: string;
  position: number;
  kind: JournalEntry["kind"];
  taskId: string;
  caller: string | null;
}

/** A job's outcome as a row shows it: the value an await resolves with, or the error it rejects with. */
export interface JobOutcomeRow {
  id: string;
  state: string;
  result: unknown;
  last_error: RecordedError | null;
  /** When it ended: a timed await inside a job times out if this is past its journaled deadline. */
  finished_at?: Date | null;
}

export type Settlement = { ok: true; value: unknown } | { ok: false; error: Error };

/** The settlement of a finished job, or null while it is unfinished. */
export function settlementOf(row: JobOutcomeRow, codec: Codec): Settlement | null {
  switch (row.state) {
    case "completed":
      return { ok: true, value: row.result === null || row.result === undefined ? undefined : deserialize(codec.decode(row.result, sealPlaces.result(row.id))) };
    case "discarded":
      return { ok: false, error: new JobFailedError(row.id, row.last_error) };
    case "cancelled":
      return { ok: false, error: new JobCancelledError(row.id, row.last_error) };
    default:
      return null;
  }
}

/**
 * The recorded steps of one job, looked up by key. A replay that reaches a
 * key not recorded, at a position where another step was recorded, took a
 * different path than the execution that recorded it.
 */
export class Journal {
  private readonly byKey = new Map<string, JournalEntry>();
  private readonly byPosition = new Map<number, JournalEntry>();
  private readonly byChild = new Map<string, JournalEntry>();

  constructor(readonly jobId: string, entries: JournalEntry[]) {
    for (const entry of entries) this.add(entry);
  }

  get size(): number {
    return this.byKey.size;
  }

  add(entry: JournalEntry): void {
    this.byKey.set(entry.step_key, entry);
    this.byPosition.set(entry.position, entry);
    if (entry.child_id) this.byChild.set(entry.child_id, entry);
  }

  /** The recorded entry for this slot, undefined for new work, or a NondeterminismError naming both call sites. */
  find(slot: StepSlot): JournalEntry | undefined {
    const entry = this.byKey.get(slot.key);
    if (entry) return entry;
    const there = this.byPosition.get(slot.position);
    if (there) this.mismatch(there, slot);
    return undefined;
  }

  /** Throws the NondeterminismError for a slot that met another recorded step. */
  mismatch(recorded: JournalEntry, slot: StepSlot): never {
    throw new NondeterminismError(this.jobId, slot.position, describeStep(recorded.kind, recorded.task_id, recorded.caller), describeStep(slot.kind, slot.taskId, slot.caller));
  }

  /** The outcome of a child or awaited job known from the journal's load. */
  childRow(childId: string): JobOutcomeRow | undefined {
    const entry = this.byChild.get(childId);
    return entry?.child_state ? { id: childId, state: entry.child_state, result: entry.child_result, last_error: entry.child_error, finished_at: entry.child_finished_at ?? null } : undefined;
  }
}

function describeStep(kind: string, taskId: string, caller: string | null): string {
  const call = kind === "step" || kind === "sleep" ? `durable.${kind}()` : `durable.${kind}() of task "${taskId}"`;
  return caller ? `${call} at ${caller}` : call;
}
