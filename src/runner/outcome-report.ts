import type { DurableEmitter, Logger } from "../events/index.js";
import type { OutcomeEntry } from "./completer.js";
import { asError, firstLine } from "./error-record.js";
import { jobEventInfo } from "./executor.js";
import { taskMetadata } from "../tasks/registry.js";

/** "src/users.ts:12:5", or null when this process does not know the task's caller. */
function callerText(task: string): string | null {
  const caller = taskMetadata(task)?.caller;
  return caller ? `${caller.file}:${caller.line}:${caller.column}` : null;
}

/** A discard decided in SQL (a rescue on the last attempt, a task no node has): the same warn line as the executor's. */
export function logDiscarded(logger: Logger, row: { id: string; task_id: string; attempt: number; max_attempts: number; message: string | null }): void {
  const error = firstLine({ attempt: row.attempt, at: "", message: row.message ?? "" });
  const fields = { jobId: row.id, task: row.task_id, caller: callerText(row.task_id), attempt: row.attempt, maxAttempts: row.max_attempts, error };
  logger.warn(`durable: job ${row.id} discarded after attempt ${row.attempt}: ${error}`, fields);
}

/**
 * Tells the world about an outcome once the completer is done with it:
 * events for listeners (telemetry, tests, the dashboard feed), and log lines
 * an operator needs with no setup: every failed attempt and every discard at
 * warn, with the job, the task, where it was enqueued and the error's first
 * line. Returns when a rescheduled job is due again, if it was.
 */
export function reportOutcome(entry: OutcomeEntry, recorded: boolean, events: DurableEmitter, logger: Logger): number | null {
  const { job, outcome } = entry;
  const event = jobEventInfo(job);
  const durationMs = performance.now() - entry.startedAt;
  if (!recorded) return null;
  switch (outcome.kind) {
    case "completed":
      events.emit("job:stop", { job: event, state: "completed", durationMs });
      return null;
    case "suspended":
      // Not an end: the job waits for others (or a timer) and is replayed later. Its queue may run the jobs it waits for now.
      logger.debug(`durable: job ${job.id} suspended`, { jobId: job.id, task: job.task_id, waitingFor: outcome.waitingFor.length, delayMs: outcome.delayMs });
      return Date.now() + outcome.delayMs;
    case "snoozed":
      events.emit("job:error", { job: event, state: "scheduled", error: asError(outcome.thrown, "snoozed"), durationMs });
      return Date.now() + outcome.delayMs;
    default: {
      const error = asError(outcome.thrown, outcome.error.message);
      events.emit("job:error", { job: event, state: outcome.kind, error, durationMs });
      const fields = { jobId: job.id, task: job.task_id, caller: callerText(job.task_id), attempt: job.attempt, maxAttempts: job.max_attempts, error: firstLine(outcome.error) };
      if (outcome.kind === "retryable") {
        logger.warn(`durable: job ${job.id} failed attempt ${job.attempt} of ${job.max_attempts}; retrying in ${outcome.delayMs} ms: ${fields.error}`, { ...fields, retryInMs: outcome.delayMs });
        return Date.now() + outcome.delayMs;
      }
      if (outcome.kind === "discarded") logger.warn(`durable: job ${job.id} discarded after attempt ${job.attempt}: ${fields.error}`, fields);
      else logger.info(`durable: job ${job.id} cancelled: ${fields.error}`, fields);
      return null;
    }
  }
}

