import type { BackoffPolicy } from "../config/options.js";
import type { AttemptFacts } from "./outcome.js";

/** A job as a claim returns it (runner/queries.ts claimedColumns): what running one attempt needs. */
export interface ClaimedJob {
  id: string;
  task_id: string;
  body_hash: string;
  /** This attempt's number (the claim counted it). */
  attempt: number;
  max_attempts: number;
  timeout_ms: number;
  backoff: BackoffPolicy | null;
  captures: unknown;
  /** What sealed captures are bound to besides the task (src/serialize/codec.ts sealPlaces); null when not sealed. */
  row_key?: string | null;
  meta: Record<string, unknown>;
  queue: string;
  progress: unknown;
  /** The enqueuer's trace context ({ traceparent }), linked from the attempt's span. */
  trace?: unknown;
  /** Its deadline (`deadline`/`expiresAt`): a job claimed ahead that reaches it before a slot frees is not started. */
  expires_at?: Date | null;
  /** The claim that brought this job stopped at its byte budget (maxClaimBytes): more may be due. */
  budget_full?: boolean;
}

/** What the outcome decision needs of a claimed job. */
export function attemptFacts(job: ClaimedJob): AttemptFacts {
  return { id: job.id, task: job.task_id, attempt: job.attempt, maxAttempts: job.max_attempts, backoff: job.backoff };
}
