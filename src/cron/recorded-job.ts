import { InvalidOptionError } from "../errors.js";
import { recordHook } from "../config/job-semantics.js";
import { normalizeAsyncOptions } from "../config/options.js";
import type { NormalizedStart } from "../config/start.js";
import { hookDocument } from "../enqueue/index.js";
import type { Codec } from "../serialize/codec.js";
import type { TaskStub } from "../tasks/registry.js";

/** A schedule's job, recorded once by durable.schedules.add(): inserted as is on each tick by whichever node wins it. */
export interface RecordedJob {
  stub: TaskStub;
  /** The job row as migrations/0008 reads it (captures sealed for its row key when encryption is on). */
  document: string;
}

export type JobRecorder = (fn: unknown) => RecordedJob;

/** Options that need a caller, or that the recorded document does not carry: refused with the fix. */
const NOT_FOR_SCHEDULES: Record<string, string> = {
  client: "each tick's job is inserted by the node that wins the tick",
  delay: "the expression decides when the job runs",
  at: "the expression decides when the job runs",
  debounce: "the expression decides when the job runs",
  expiresAt: "a fixed date would expire every later tick",
  deadline: "a schedule added at run time does not carry deadlines; declare the entry with durable.cron() in code for one",
  unique: "the tick already inserts one job per tick across all nodes",
  onDiscard: "a schedule added at run time does not carry a discard hook; declare the entry with durable.cron() in code for one",
  concurrency: "a schedule added at run time does not carry per-key concurrency; use a queue's concurrency",
  after: "a scheduled job has no job to wait for",
  afterFailure: "a scheduled job has no job to wait for",
};

/**
 * `() => durable.async(() => report(teamId), { queue: "reports" })`: the
 * function runs now, once, and its durable.async() call is recorded, not
 * inserted (as an onDiscard hook's is): stub, captures snapshotted now, options.
 */
export function jobRecorder(codec: () => Codec, config: NormalizedStart): JobRecorder {
  return (fn) => {
    const call = recordHook("fn", fn);
    if (call === null) throw new InvalidOptionError("fn", "expected a function that calls durable.async(), like () => durable.async(() => sendReport(teamId)), got nothing.");
    const options = call.options;
    if (options !== undefined && options !== null && typeof options === "object") {
      for (const [key, why] of Object.entries(NOT_FOR_SCHEDULES)) {
        if ((options as Record<string, unknown>)[key] !== undefined) throw new InvalidOptionError(`fn: ${key}`, `is not an option of a scheduled job: ${why}. Remove it.`);
      }
    }
    const normalized = normalizeAsyncOptions(options, { maxAttempts: config.defaultMaxAttempts, timeoutMs: config.defaultTimeoutMs, nodeTypes: config.knownNodeTypes });
    const document = hookDocument({ stub: call.stub, captures: call.captures, options: normalized }, codec(), config.maxCaptureBytes, "durable.schedules.add");
    return { stub: call.stub, document };
  };
}
