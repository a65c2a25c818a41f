import { jobContextStorage } from "../context.js";
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
  await(job: unknown): Promise<unknown>;
  awaitAll(jobs: unknown): Promise<unknown[]>;
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
