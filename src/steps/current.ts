import { jobContextStorage } from "../context.js";
import { AttemptEndedError } from "../errors.js";
import type { JobHandle } from "../enqueue/index.js";

// The step calls of the execution running in this async context. The scope
// rides on the job's context object (a globalThis-shared AsyncLocalStorage),
// under a registered symbol, so a closure that reaches another copy of the
// package (src and dist, a bundle) still journals into the job it runs in.

export const STEP_SCOPE: unique symbol = Symbol.for("durable-async.step-scope") as any;

/** What `durable.*` calls do inside a running job: each is a step of its journal. */
export interface StepCalls {
  async(stub: unknown, captures?: unknown, options?: unknown): Promise<JobHandle>;
  /** Children created in `fn` are inserted together anyway (one transaction per turn); resolves with their handles. */
  bulk(fn: () => unknown): Promise<JobHandle[]>;
  run(stub: unknown, captures?: unknown, options?: unknown): Promise<unknown>;
  /** `options.timeout`: a deadline journaled at the first call, so every replay times out alike. */
  await(job: unknown, options?: unknown): Promise<unknown>;
  awaitAll(jobs: unknown, options?: unknown): Promise<unknown[]>;
  step(fn: unknown, options?: unknown): Promise<unknown>;
  sleep(duration: unknown): Promise<void>;
  /** False once the execution ended with a value or an error: a late call (a timer the closure left behind) is not a step. */
  readonly open: boolean;
}

/** The step scope of the running job, if this call runs inside one and its execution is still going. */
export function currentSteps(): StepCalls | undefined {
  const context = jobContextStorage.getStore() as { [STEP_SCOPE]?: StepCalls } | undefined;
  const scope = context?.[STEP_SCOPE];
  return scope?.open ? scope : undefined;
}

/**
 * Throws when the calling closure's attempt already ended by its signal
 * (timeout, cancel, shutdown) but the closure kept going: a child or step it
 * starts now would run outside the journal, once per abandoned attempt.
 * A closure that returned normally and left a timer behind is not stopped
 * (its attempt succeeded; the call enqueues as from anywhere).
 */
export function refuseAfterAttempt(call: string): void {
  const context = jobContextStorage.getStore() as { jobId?: string; signal?: AbortSignal; [STEP_SCOPE]?: StepCalls } | undefined;
  if (!context?.signal?.aborted) return;
  if (context[STEP_SCOPE]?.open) return;
  const reason = context.signal.reason as { message?: unknown } | undefined;
  throw new AttemptEndedError(String(context.jobId), call, typeof reason?.message === "string" ? reason.message : "its signal aborted");
}
