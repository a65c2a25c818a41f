import type pg from "pg";
import { jobContextStorage, type JobContext } from "../context.js";
import { BadJobRowError, DurableError, JobTimeoutError } from "../errors.js";
import type { DurableEmitter, JobEventInfo } from "../events/index.js";
import { deserialize } from "../serialize/values.js";
import { sealPlaces, type SealPlace } from "../serialize/codec.js";
import { resolveStub, taskMetadata } from "../tasks/registry.js";
import { startAttemptSpan, type AttemptSpan } from "../telemetry/index.js";
import { attemptFacts, type ClaimedJob } from "./claimed-job.js";
import type { Completer } from "./completer.js";
import { decideOutcome, type OutcomePolicy, type Settled } from "./outcome.js";
import { progressWriter } from "./progress.js";
import { interruptedSettled, STEP_SCOPE, StepScope, type StepRuntime } from "../steps/index.js";


export interface ExecutorDeps {
  pool: pg.Pool;
  quotedSchema: string;
  events: DurableEmitter;
  completer: Completer;
  policy: OutcomePolicy;
  decode: (stored: unknown, place: SealPlace) => unknown;
  /** Which stub runs a job of this task id and body hash: its own, or the one a moved call site's body now has (runner refreshTasks). */
  stubId?: (taskId: string, bodyHash: string) => string;
  /** Journals durable.* calls made inside the closure (src/steps); absent, they enqueue as anywhere else. */
  steps?: StepRuntime;
}

export function jobEventInfo(job: ClaimedJob): JobEventInfo {
  const meta = taskMetadata(job.task_id);
  return { id: job.id, queue: job.queue, task: job.task_id, attempt: job.attempt, maxAttempts: job.max_attempts, meta: job.meta, caller: meta?.caller };
}

type Run = (captures: Record<string, unknown>) => unknown;

/** The stub and the decoded captures, or why this row can never run here. */
async function prepareRun(job: ClaimedJob, deps: ExecutorDeps): Promise<{ run: Run; captures: Record<string, unknown> }> {
  let stub: Awaited<ReturnType<typeof resolveStub>>;
  try {
    stub = await resolveStub(deps.stubId?.(job.task_id, job.body_hash) ?? job.task_id);
  } catch (error) {
    // The task's module failed to load in this process (a missing package, an import this
    // process cannot resolve): this node's problem, not the job's. Retried with backoff.
    throw new TaskModuleLoadError(job.id, job.task_id, error);
  }
  if (!stub) throw new BadJobRowError(job.id, `task "${job.task_id}" is not registered in this process`);
  try {
    const decoded = deserialize(deps.decode(job.captures, sealPlaces.captures(job.task_id, job.row_key ?? null)));
    if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) {
      throw new TypeError(`captures decode to ${Array.isArray(decoded) ? "an array" : typeof decoded}, expected an object`);
    }
    return { run: stub.run, captures: decoded as Record<string, unknown> };
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    // A class the enqueuing process registered with superjson, not registered here: a deploy
    // (registering it in the worker too) fixes it, so this is an ordinary failure, retried with backoff.
    const unknownClass = /unknown class '([^']*)'/.exec(message);
    if (unknownClass) throw new UnregisteredClassError(job.id, unknownClass[1]!, job.task_id);
    throw new BadJobRowError(job.id, `its captures cannot be decoded (${message})`, error);
  }
}

/** Thrown by prepareRun when the task's module does not load here: retried, not discarded. */
class TaskModuleLoadError extends DurableError {
  constructor(jobId: string, taskId: string, cause: unknown) {
    super(
      "DURABLE_TASK_MODULE_LOAD",
      `Job ${jobId} (task ${taskId}) cannot run on this node: its module failed to load (${(cause as Error)?.message ?? String(cause)}). ` +
        "Fix the worker's build or environment (a missing package, a path alias the worker does not resolve); the job is retried with backoff meanwhile.",
      { cause },
    );
  }
}

/** Thrown by prepareRun for a capture of a class this process has not registered: retried, not discarded. */
class UnregisteredClassError extends DurableError {
  constructor(jobId: string, className: string, taskId: string) {
    super(
      "DURABLE_UNREGISTERED_CLASS",
      `Job ${jobId} (task ${taskId}) captures an instance of class "${className}", which this worker process has not registered with superjson. ` +
        `SuperJSON.registerClass(${className}) must run in the worker too: import the module that registers it from the worker's entry, ` +
        `or import ${className} as a value (not \`import type\`) where the call site is. The job is retried with backoff meanwhile.`,
    );
  }
}

/**
 * Runs the closure under its context, its timeout and its signal: whatever
 * it does (returns, throws, never settles until aborted) ends as a Settled.
 */
async function runClosure(job: ClaimedJob, controller: AbortController, deps: ExecutorDeps, span: AttemptSpan): Promise<Settled> {
  let prepared: Awaited<ReturnType<typeof prepareRun>>;
  try {
    prepared = await prepareRun(job, deps);
  } catch (error) {
    return error instanceof UnregisteredClassError || error instanceof TaskModuleLoadError ? { kind: "threw", error } : { kind: "unrunnable", error };
  }
  const writer = progressWriter(deps.pool, deps.quotedSchema, job.id);
  const scope = deps.steps ? new StepScope(job.id, deps.steps) : null;
  const context: JobContext & { [STEP_SCOPE]?: StepScope } = {
    jobId: job.id,
    attempt: job.attempt,
    maxAttempts: job.max_attempts,
    queue: job.queue,
    task: job.task_id,
    meta: job.meta,
    signal: controller.signal,
    progress: writer.progress,
    ...(scope ? { [STEP_SCOPE]: scope } : {}),
  };
  const timer = setTimeout(() => controller.abort(new JobTimeoutError(job.timeout_ms)), job.timeout_ms);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(controller.signal.reason);
    controller.signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const running = span.run(() => jobContextStorage.run(context, async () => prepared.run(prepared.captures))).then((value): Settled => ({ kind: "returned", value }));
  try {
    return await Promise.race(scope ? [running, aborted, scope.interruption.then(interruptedSettled)] : [running, aborted]);
  } catch (error) {
    return { kind: "threw", error };
  } finally {
    scope?.finish();
    clearTimeout(timer);
    controller.signal.removeEventListener("abort", onAbort!);
    await writer.flush();
  }
}

/**
 * Runs one claimed job's attempt and hands its outcome to the completer.
 * Resolves when the closure is done (the slot is free), not when the
 * outcome is written. Never throws.
 */
export async function executeJob(job: ClaimedJob, controller: AbortController, deps: ExecutorDeps): Promise<void> {
  const startedAt = performance.now();
  const event = jobEventInfo(job);
  deps.events.emit("job:start", { job: event });
  const span = startAttemptSpan(event, job.trace);
  const settled = await runClosure(job, controller, deps, span);
  const outcome = decideOutcome(settled, attemptFacts(job), deps.policy);
  span.end("thrown" in outcome ? outcome.thrown : "error" in settled ? settled.error : undefined);
  if (outcome.kind === "released") return;
  deps.completer.record({ job, outcome, startedAt });
}
