import { CLAIMABLE_STATES, sqlStates } from "../jobs/states.js";

const CLAIMABLE = sqlStates(CLAIMABLE_STATES);

/**
 * Deadlines: jobs that were not started by their expires_at are discarded
 * with a recorded reason. The claim never takes them (pickDueJobs), so this
 * sweep only makes the outcome visible and final; it is bounded per pass and
 * SKIP LOCKED keeps nodes off each other's rows. The discard fires the job's
 * onDiscard hook like any other (migrations/0007).
 */
export const discardExpiredJobs = (quotedSchema: string) => `
with expired as (
  select id from ${quotedSchema}.jobs_active
  where expires_at is not null and expires_at <= now() and state in ${CLAIMABLE}
  order by expires_at
  limit 500
  for update skip locked
)
update ${quotedSchema}.jobs j
set state = 'discarded', discarded_at = now(), finished_at = now(), node_id = null,
    errors = j.errors || jsonb_build_array(jsonb_build_object(
      'attempt', j.attempt, 'at', now(), 'name', 'DeadlineExpiredError', 'code', 'DURABLE_DEADLINE_EXPIRED',
      'message', format('not started by its deadline %s (%s attempt(s) made); discarded instead of running late',
                        to_char(j.expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), j.attempt)))
from expired where j.id = expired.id and j.state in ${CLAIMABLE}
returning j.id::text, j.queue, j.task_id, j.attempt, j.max_attempts, j.errors->-1->>'message' as message`;
