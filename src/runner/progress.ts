import type pg from "pg";
import type { ProgressUpdate } from "../context.js";
import { DurableError } from "../errors.js";
import { storableText, truncateText } from "../serialize/text.js";
import { describeThrown } from "./error-record.js";
import { saveProgress } from "./queries.js";

/** The stored form of a progress update: numbers that JSON can hold, a message jsonb can hold. */
export function progressRecord(update: ProgressUpdate, at = new Date()): Record<string, unknown> {
  if (typeof update === "number") return { fraction: Math.max(0, Math.min(1, update)), at: at.toISOString() };
  const { done, total, message } = update;
  const record: Record<string, unknown> = { done, total, fraction: total > 0 ? Math.max(0, Math.min(1, done / total)) : 0 };
  if (message !== undefined) record.message = storableText(truncateText(typeof message === "string" ? message : describeThrown(message), 1_000));
  record.at = at.toISOString();
  return record;
}

function checkUpdate(update: unknown): asserts update is ProgressUpdate {
  const finite = (n: unknown) => typeof n === "number" && Number.isFinite(n);
  if (finite(update)) return;
  if (typeof update === "object" && update !== null && finite((update as any).done) && finite((update as any).total)) return;
  throw new DurableError("DURABLE_INVALID_PROGRESS", "progress() takes a fraction from 0 to 1 or { done, total, message? } with finite numbers.");
}

/** Writes progress at most every 500 ms per job, and always the last value once the window closes. */
export function progressWriter(pool: pg.Pool, quotedSchema: string, jobId: string) {
  let lastWrite = 0;
  let pending: Record<string, unknown> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();
  const write = (record: Record<string, unknown>) => {
    lastWrite = Date.now();
    const text = JSON.stringify(record);
    // A failed progress write is not worth failing the job over: the next one replaces it.
    const done = inFlight.then(() => pool.query(saveProgress(quotedSchema), [jobId, text])).then(() => undefined, () => undefined);
    inFlight = done;
    return done;
  };
  return {
    progress: async (update: ProgressUpdate) => {
      checkUpdate(update);
      // Read now, in the closure's call: a getter that throws throws there, not in a timer.
      const record = progressRecord(update);
      if (Date.now() - lastWrite >= 500) return write(record);
      pending = record;
      timer ??= setTimeout(() => {
        timer = null;
        if (pending !== null) void write(pending);
        pending = null;
      }, 500);
    },
    /**
     * Writes the last throttled update and waits for writes in flight. Runs
     * before the outcome is recorded: once the row leaves the active
     * partition, a late progress write would find nothing to update.
     */
    flush: async () => {
      if (timer) clearTimeout(timer);
      timer = null;
      if (pending !== null) void write(pending);
      pending = null;
      await inFlight;
    },
  };
}
