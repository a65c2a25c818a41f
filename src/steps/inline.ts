import { serializeChecked } from "../serialize/values.js";
import { bytesOver } from "../serialize/text.js";
import { ResultTooLargeError } from "../errors.js";
import { stepValuePlace, type JournalEntry, type StepSlot } from "./journal.js";
import { recordTimer as recordTimerSql, recordValue } from "./queries.js";
import type { StepRuntime } from "./runtime.js";

// Inline steps and timers: what they record in the journal. A value is
// stored as a job result is (serialized, through the codec, capped by
// maxResultBytes), so a replay returns exactly what the first run saw.

/** Records an inline step's value; if another execution recorded one first, that one is returned. */
export async function recordInlineValue(runtime: StepRuntime, jobId: string, slot: StepSlot, value: unknown): Promise<JournalEntry> {
  const { codec, config, quotedSchema } = runtime.deps;
  const serialized = serializeChecked(value, "result", `durable.step()${slot.caller ? ` at ${slot.caller}` : ""}`);
  const text = JSON.stringify(codec.encode(serialized, stepValuePlace(jobId, slot.key)));
  const over = bytesOver(text, config.maxResultBytes);
  if (over !== null) throw new ResultTooLargeError(over, config.maxResultBytes);
  const { rows } = await runtime.query(recordValue(quotedSchema), [jobId, slot.key, slot.position, slot.taskId, slot.caller, text]);
  return entryOf(slot, { value: rows[0]?.value ?? null });
}

/** Records a timer due `ms` from now by the database's clock; returns it and how long is left. */
export async function recordTimer(runtime: StepRuntime, jobId: string, slot: StepSlot, ms: number): Promise<{ entry: JournalEntry; leftMs: number }> {
  const { rows } = await runtime.query(recordTimerSql(runtime.deps.quotedSchema), [jobId, slot.key, slot.position, slot.caller, ms]);
  const wakeAt: Date = rows[0].wake_at;
  return { entry: entryOf(slot, { wake_at: wakeAt }), leftMs: wakeAt.getTime() - (rows[0].now as Date).getTime() };
}

function entryOf(slot: StepSlot, fields: Partial<JournalEntry>): JournalEntry {
  return {
    step_key: slot.key, position: slot.position, kind: slot.kind, task_id: slot.taskId, caller: slot.caller, child_id: null, value: null, wake_at: null,
    child_state: null, child_queue: null, child_result: null, child_error: null, ...fields,
  };
}
