// The job states and the groups the rest of the code speaks of. The table's
// check constraint and its LIST partitions (migrations/0001_init.sql) hold
// the same names: jobs_active holds ACTIVE_STATES, jobs_finished
// FINISHED_STATES, and a move between the two is a cross-partition update.
//
//   available ──claim──▶ executing ──value──────────▶ completed
//   scheduled ──due────▶ (claimable)   ──error, attempts left──▶ retryable ──due──▶ (claimable)
//   retryable ──due────▶ (claimable)   ──error, none left / Discard──▶ discarded
//                                       ──Cancel / jobs.cancel()─────▶ cancelled
//                                       ──Snooze─────────────────────▶ scheduled (attempt given back)
//                                       ──shutdown, lost claim, rescue──▶ available

export const JOB_STATES = ["available", "scheduled", "executing", "retryable", "completed", "discarded", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** States a claim may take a job from, once its run_at has come. */
export const CLAIMABLE_STATES = ["available", "scheduled", "retryable"] as const satisfies readonly JobState[];

/** The states of the jobs_active partition: everything not finished. */
export const ACTIVE_STATES = ["available", "scheduled", "executing", "retryable"] as const satisfies readonly JobState[];

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

export function isJobState(value: unknown): value is JobState {
  return typeof value === "string" && (JOB_STATES as readonly string[]).includes(value);
}

export function isFinished(state: string): state is FinishedState {
  return (FINISHED_STATES as readonly string[]).includes(state);
}
