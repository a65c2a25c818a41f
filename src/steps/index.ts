// Durable steps: durable.async/run/await/awaitAll/step/sleep inside a running
// job, journaled per job so any later execution (retry, resume, rescue)
// replays finished work instead of redoing it. See docs/JOBS.md.
import type { Settled } from "../runner/outcome.js";
import type { Interruption } from "./scope.js";

export { STEP_SCOPE, currentSteps, type StepCalls } from "./current.js";
export { StepScope, type Interruption, type Suspension } from "./scope.js";
export { StepRuntime, type StepRuntimeDeps } from "./runtime.js";
export { Journal, type JournalEntry } from "./journal.js";

/** What an interruption means to the outcome decision: a suspension, or the divergence thrown as the attempt's error. */
export function interruptedSettled(interruption: Interruption): Settled {
  return interruption.kind === "suspended" ? interruption : { kind: "threw", error: interruption.error };
}
