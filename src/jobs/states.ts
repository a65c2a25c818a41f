// The job states and the groups the rest of the code speaks of. The table's
// check constraint and its LIST partitions (migrations/0001_init.sql) hold
// the same names: jobs_active holds ACTIVE_STATES, jobs_finished
// FINISHED_STATES, and a move between the two is a cross-partition update.
//
//   available / scheduled / retryable, once due ── claim ──▶ executing
//   executing ── returns a value ─────────────────────────▶ completed
//             ── throws, attempts left ───────────────────▶ retryable (after the backoff)
//             ── throws on the last attempt, or Discard ──▶ discarded
//             ── Cancel, or durable.jobs.cancel() ────────▶ cancelled
//             ── Snooze ──────────────────────────────────▶ scheduled (the attempt given back)
//             ── shutdown, a lost claim ──────────────────▶ available (the attempt given back)
//             ── its node dies ───────────────────────────▶ available, or discarded on the last attempt
//             ── awaits unfinished jobs (steps) ──────────▶ waiting (the attempt given back, the slot freed)
//             ── durable.sleep() ─────────────────────────▶ scheduled, at the timer (the attempt given back)
//   waiting ── the awaited jobs end ──────────────────────▶ available (replayed from the start, src/steps)
//   waiting is never claimed: it is outside CLAIMABLE_STATES, and jobs_active's fetch index leaves it out.

export const JOB_STATES = ["available", "scheduled", "executing", "retryable", "waiting", "completed", "discarded", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** States a claim may take a job from, once its run_at has come. */
export const CLAIMABLE_STATES = ["available", "scheduled", "retryable"] as const satisfies readonly JobState[];

/** The states of the jobs_active partition: everything not finished. */
export const ACTIVE_STATES = ["available", "scheduled", "executing", "retryable", "waiting"] as const satisfies readonly JobState[];

/** The states of the jobs_finished partition, kept for reports until pruned. */
export const FINISHED_STATES = ["completed", "discarded", "cancelled"] as const satisfies readonly JobState[];
export type FinishedState = (typeof FINISHED_STATES)[number];

/** Named groups of states, as reports speak of them. */
export const STATE_GROUPS = {
  sent: ["completed"],
  failed: ["discarded", "cancelled"],
  pending: CLAIMABLE_STATES,
  active: ACTIVE_STATES,
  finished: FINISHED_STATES,
} as const satisfies Record<string, readonly JobState[]>;
export type StateGroup = keyof typeof STATE_GROUPS;

/** The states each bulk operation of durable.jobs touches: cancel what is unfinished, retry what failed or finished, delete what is not running. */
export const OPERATION_STATES = {
  cancel: ACTIVE_STATES,
  retry: ["retryable", "discarded", "cancelled", "completed"],
  delete: ["available", "scheduled", "retryable", "completed", "discarded", "cancelled"],
} as const satisfies Record<string, readonly JobState[]>;

/** `('available', 'scheduled')`: a constant list of states for SQL text (the names are ours, never input). */
export function sqlStates(states: readonly JobState[]): string {
  return `(${states.map((s) => `'${s}'`).join(", ")})`;
}

export function isJobState(value: unknown): value is JobState {
  return typeof value === "string" && (JOB_STATES as readonly string[]).includes(value);
}

export function isFinished(state: string): state is FinishedState {
  return (FINISHED_STATES as readonly string[]).includes(state);
}
