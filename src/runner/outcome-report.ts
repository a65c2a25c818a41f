import type { DurableEmitter, Logger } from "../events/index.js";
import type { OutcomeEntry } from "./completer.js";
import { asError, firstLine } from "./error-record.js";
import { jobEventInfo } from "./executor.js";

/** "src/users.ts:12:5", or null when this process does not know the task's caller. */
function callerText(entry: OutcomeEntry): string | null {
  const caller = jobEventInfo(entry.job).caller;
  return caller ? `${caller.file}:${caller.line}:${caller.column}` : null;
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
    case "snoozed":
      events.emit("job:error", { job: event, state: "scheduled", error: asError(outcome.thrown, "snoozed"), durationMs });
      return Date.now() + outcome.delayMs;
    default: {
      const error = asError(outcome.thrown, outcome.error.message);
      events.emit("job:error", { job: event, state: outcome.kind, error, durationMs });
      const fields = { jobId: job.id, task: job.task_id, caller: callerText(entry), attempt: job.attempt, maxAttempts: job.max_attempts, error: firstLine(outcome.error) };
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

