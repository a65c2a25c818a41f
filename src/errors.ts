// Every error the library throws is a DurableError with a stable `code`, so
// callers can branch on `instanceof` or on `code` without parsing messages.
// Messages end with the fix, in one line.

import { formatDuration } from "./config/format-duration.js";

export class DurableError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An option or argument was invalid. Names the option and the fix. */
export class InvalidOptionError extends DurableError {
  readonly option: string;
  constructor(option: string, message: string) {
    super("DURABLE_INVALID_OPTION", `Invalid option \`${option}\`: ${message}`);
    this.option = option;
  }
}

/** A `durable.async(() => …)` call site reached the runtime without the transformer. */
export class UntransformedCallError extends DurableError {
  /** `hint`: what is most likely wrong where the process runs (the hook is on but skipped the file, Vitest without the plugin). */
  constructor(method: string, location: string | undefined, hint = "") {
    super(
      "DURABLE_UNTRANSFORMED",
      `durable.${method}() at ${location ?? "an unknown location"} was called with a plain function: the call site was not transformed. ${hint ? `${hint} ` : ""}` +
        `Enable the transformer: run with \`node --import durable-async/register\`, add \`durable-async/esbuild\` to your esbuild plugins, or \`durable-async/vite\` to Vite/Vitest.`,
    );
  }
}

/** A captured value (or a result) cannot survive serialization. */
export class NotSerializableError extends DurableError {
  readonly path: string;
  constructor(path: string, reason: string, where: string) {
    super(
      "DURABLE_NOT_SERIALIZABLE",
      `${path} ${reason} (${where}). Pass plain data instead: ids, strings, numbers, plain objects, Date, Map, Set, BigInt, or a class registered with superjson.`,
    );
    this.path = path;
  }
}

export class DuplicateTaskError extends DurableError {
  constructor(id: string, first: string, second: string) {
    super(
      "DURABLE_DUPLICATE_TASK",
      `Task id "${id}" is registered twice with different bodies (${first} and ${second}). Give one of the calls a different \`name\`.`,
    );
  }
}

export class ConfigError extends DurableError {
  constructor(message: string) {
    super("DURABLE_CONFIG", message);
  }
}

/**
 * An optional dependency (the embedded server, the transformer's parser, type
 * checker or bundler) is used but not installed, as in a production image
 * installed with --omit=optional. Names the package to install.
 */
export class MissingDependencyError extends DurableError {
  readonly packageName: string;
  constructor(packageName: string, purpose: string, fix: string, cause?: unknown) {
    super("DURABLE_MISSING_DEPENDENCY", `${purpose} needs the package "${packageName}", which is not installed (it is an optional dependency of durable-async: \`npm install --omit=optional\` leaves it out). ${fix}`, { cause });
    this.packageName = packageName;
  }
}

export class SchemaNewerError extends DurableError {
  constructor(schema: string, databaseVersion: number, codeVersion: number) {
    super(
      "DURABLE_SCHEMA_NEWER",
      `Schema "${schema}" is at migration ${databaseVersion} but this version of durable-async knows only up to ${codeVersion}. Upgrade durable-async in this process (or point it at another schema).`,
    );
  }
}

/** A call reached an instance after stop(): it no longer enqueues, awaits or queries. */
export class DurableStoppedError extends DurableError {
  constructor() {
    super(
      "DURABLE_STOPPED",
      "durable.stop() was called, so this instance no longer enqueues, awaits or queries jobs. Call durable.start() again before this call (or create a new DurableInstance), or make the call before stop().",
    );
  }
}

/** The schema needs migrations and this role may not run DDL. */
export class MigrationPermissionError extends DurableError {
  constructor(schema: string, current: number, latest: number, cause: unknown) {
    super(
      "DURABLE_MIGRATION_DENIED",
      `Schema "${schema}" needs migration${latest - current > 1 ? "s" : ""} ${current + 1}${latest - current > 1 ? `-${latest}` : ""}, but this database role may not create or change tables (${(cause as Error)?.message ?? "permission denied"}). ` +
        `Run \`durable migrate --schema ${schema}\` once as a role that owns the schema (e.g. in your deploy step), and start this process with \`migrate: false\`.`,
      { cause },
    );
  }
}

/** Started with `migrate: false` against a schema older than this code. */
export class SchemaBehindError extends DurableError {
  constructor(schema: string, current: number, latest: number) {
    super(
      "DURABLE_SCHEMA_BEHIND",
      current === 0
        ? `Schema "${schema}" has no durable tables and this process was started with \`migrate: false\`. Run \`durable migrate --schema ${schema}\` first (or check the schema name).`
        : `Schema "${schema}" is at migration ${current} but this code needs ${latest}, and this process was started with \`migrate: false\`. Run \`durable migrate --schema ${schema}\` before deploying this version.`,
    );
  }
}

export class NotStartedError extends DurableError {
  constructor(what: string) {
    super("DURABLE_NOT_STARTED", `${what} needs a running durable instance. Call \`await durable.start({ database })\` first.`);
  }
}

/** The awaited job was discarded (attempts used up or `Discard` thrown). */
/** A message as a sentence: one final period, not two (messages that end with their own). */
function endSentence(message: string): string {
  return /[.!?]$/.test(message.trimEnd()) ? message.trimEnd() : `${message}.`;
}

export class JobFailedError extends DurableError {
  readonly jobId: string;
  readonly lastError: RecordedError | null;
  constructor(jobId: string, lastError: RecordedError | null) {
    super(
      "DURABLE_JOB_FAILED",
      `Job ${jobId} was discarded${lastError ? ` after attempt ${lastError.attempt}: ${endSentence(lastError.message)}` : "."} Inspect it with \`durable jobs show ${jobId}\`.`,
    );
    this.jobId = jobId;
    this.lastError = lastError;
  }
}

export class JobCancelledError extends DurableError {
  readonly jobId: string;
  readonly lastError: RecordedError | null;
  constructor(jobId: string, lastError: RecordedError | null) {
    super("DURABLE_JOB_CANCELLED", `Job ${jobId} was cancelled${lastError ? `: ${lastError.message}` : ""}.`);
    this.jobId = jobId;
    this.lastError = lastError;
  }
}

/** `durable.await` ran out of time. The job itself keeps running. */
export class AwaitTimeoutError extends DurableError {
  readonly jobId: string;
  constructor(jobId: string, timeoutMs: number) {
    super(
      "DURABLE_AWAIT_TIMEOUT",
      `Job ${jobId} did not finish within ${formatDuration(timeoutMs)}; it keeps running. Await it again later or raise \`timeout\`.`,
    );
    this.jobId = jobId;
  }
}

export class JobNotFoundError extends DurableError {
  constructor(jobId: string) {
    super("DURABLE_JOB_NOT_FOUND", `Job ${jobId} does not exist (it may have been pruned). Check the id.`);
  }
}

/** Raised inside an attempt that ran past its timeout. */
export class JobTimeoutError extends DurableError {
  constructor(timeoutMs: number) {
    super("DURABLE_JOB_TIMEOUT", `The attempt exceeded its timeout of ${formatDuration(timeoutMs)}. Raise \`timeout\` or make the closure stop when \`durable.context().signal\` aborts.`);
  }
}

export class ResultTooLargeError extends DurableError {
  /** `of`: whose result, for the message ("task src/report.ts#build#0 (src/report.ts:12)"). */
  constructor(bytes: number, cap: number, of?: string) {
    super(
      "DURABLE_RESULT_TOO_LARGE",
      `The result${of ? ` of ${of}` : ""} is ${bytes} bytes, over the cap of ${cap} bytes (\`maxResultBytes\`). Return an id or a URL instead, or raise \`maxResultBytes\` in durable.start().`,
    );
  }
}

/** The captures of a call serialize to more than maxCaptureBytes. */
export class CaptureTooLargeError extends DurableError {
  readonly bytes: number;
  readonly cap: number;
  constructor(bytes: number, cap: number, where: string) {
    super(
      "DURABLE_CAPTURE_TOO_LARGE",
      `The captures of ${where} are ${bytes} bytes serialized, over the cap of ${cap} bytes (\`maxCaptureBytes\`). Capture an id and load the data inside the closure, or raise \`maxCaptureBytes\` in durable.start().`,
    );
    this.bytes = bytes;
    this.cap = cap;
  }
}

/** The database refused to record a job's outcome; the attempt is recorded as failed instead. */
export class OutcomeRejectedError extends DurableError {
  constructor(jobId: string, outcome: string, reason: string) {
    super(
      "DURABLE_OUTCOME_REJECTED",
      `The database refused to record job ${jobId}'s outcome (${outcome}): ${reason}. The attempt counts as failed; check triggers or constraints added to the jobs table.`,
    );
  }
}

export class UnknownTaskError extends DurableError {
  constructor(taskId: string, caller: string | null, graceMs: number) {
    super(
      "DURABLE_UNKNOWN_TASK",
      `No running node has task "${taskId}"${caller ? ` (called from ${caller})` : ""} after ${formatDuration(graceMs)}. Deploy the code that contains it, or delete the job.`,
    );
  }
}

/**
 * A replay of a job reached a step other than the one its journal recorded
 * at that position: the code between steps changed, or depends on something
 * that differs between executions (time, randomness, data read outside a step).
 */
export class NondeterminismError extends DurableError {
  readonly jobId: string;
  constructor(jobId: string, position: number, recorded: string, reached: string) {
    super(
      "DURABLE_NONDETERMINISM",
      `Job ${jobId} replayed differently: step ${position} was ${recorded} when recorded, but this execution reached ${reached}. ` +
        "Code between steps re-runs on every replay and must take the same steps in the same order: move time, randomness and reads into durable.step(), or let this job finish on the code it started with.",
    );
    this.jobId = jobId;
  }
}

/**
 * A closure went on after its attempt ended (timed out, cancelled, or its
 * node shut down) and called durable.async/run/bulk/step: the attempt's
 * outcome is already decided, so nothing it starts now may run.
 */
export class AttemptEndedError extends DurableError {
  readonly jobId: string;
  constructor(jobId: string, call: string, why: string) {
    super(
      "DURABLE_ATTEMPT_ENDED",
      `${call} was called by job ${jobId} after its attempt ended (${why}); nothing it starts now runs. ` +
        "Stop work when durable.context().signal aborts (pass it to fetch and timers, or check signal.aborted between steps).",
    );
    this.jobId = jobId;
  }
}

export class BadJobRowError extends DurableError {
  constructor(jobId: string, reason: string, cause?: unknown) {
    super("DURABLE_BAD_JOB", `Job ${jobId} cannot run: ${reason}.`, { cause });
  }
}

export interface RecordedError {
  attempt: number;
  at: string;
  message: string;
  name?: string;
  stack?: string;
  code?: string;
}
