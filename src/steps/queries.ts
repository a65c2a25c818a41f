import { FINISHED_STATES, sqlStates } from "../jobs/states.js";

// The statements of durable steps: the journal (steps table), a job's wait
// for others (jobs.waiting_for), and the wake-ups when they end.

const FINISHED = sqlStates(FINISHED_STATES);

/**
 * A job's whole journal in one query, each child with its current outcome,
 * so a replay of a parent with 1,000 steps costs one round trip, not 1,000.
 */
export const loadJournal = (quotedSchema: string) => `
select s.step_key, s.position, s.kind, s.task_id, s.caller, s.child_id::text as child_id, s.value, s.wake_at,
       c.state as child_state, c.queue as child_queue, c.result as child_result, c.errors->-1 as child_error
from ${quotedSchema}.steps s left join ${quotedSchema}.jobs c on c.id = s.child_id
where s.parent_id = $1
order by s.position`;

/**
 * Records child steps (in the transaction that inserted the children). A key
 * recorded already means another execution of the same parent got there
 * first (a node presumed dead that was not): the caller rolls back.
 */
export const insertChildSteps = (quotedSchema: string) => `
insert into ${quotedSchema}.steps (parent_id, step_key, position, kind, task_id, caller, child_id)
select $1, k, p, kd, t, c, ch
from unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[]) as u(k, p, kd, t, c, ch)
on conflict (parent_id, step_key) do nothing
returning step_key`;

/** An inline step's value. On a conflict the value recorded first wins and comes back. */
export const recordValue = (quotedSchema: string) => `
with ins as (
  insert into ${quotedSchema}.steps (parent_id, step_key, position, kind, task_id, caller, value)
  values ($1, $2, $3, 'step', $4, $5, $6::json)
  on conflict (parent_id, step_key) do nothing
  returning value
)
select value from ins
union all
select value from ${quotedSchema}.steps where parent_id = $1 and step_key = $2 and not exists (select 1 from ins)`;

/** A durable timer, due by the database's clock. The first recorded due time wins. */
export const recordTimer = (quotedSchema: string) => `
with ins as (
  insert into ${quotedSchema}.steps (parent_id, step_key, position, kind, task_id, caller, wake_at)
  values ($1, $2, $3, 'sleep', 'durable.sleep', $4, now() + $5::bigint * interval '1 millisecond')
  on conflict (parent_id, step_key) do nothing
  returning wake_at
)
select wake_at, now() as now from ins
union all
select wake_at, now() from ${quotedSchema}.steps where parent_id = $1 and step_key = $2 and not exists (select 1 from ins)`;

/** The state of awaited jobs, with the outcome of those that ended, in one query for all an execution waits on. */
export const readOutcomes = (quotedSchema: string) => `
select id::text, state,
       case when state in ${FINISHED} then result end as result,
       case when state in ${FINISHED} then errors->-1 end as last_error
from ${quotedSchema}.jobs where id = any($1::bigint[])`;

/**
 * Waiting jobs whose wait is over: every job they wait for ended, or one of
 * them failed (the replay rethrows at once). The completer wakes most of
 * them as it records the ends; this sweep catches the rest (two ends
 * committed side by side, each seeing the other still running). Bounded
 * per pass.
 */
export const wakeWaitingJobs = (quotedSchema: string) => `
with due as (
  select p.id from ${quotedSchema}.jobs_active p
  where p.state = 'waiting'
    and (not exists (select 1 from ${quotedSchema}.jobs_active c where c.id = any(p.waiting_for))
         or exists (select 1 from ${quotedSchema}.jobs_finished f where f.id = any(p.waiting_for) and f.state in ('discarded', 'cancelled')))
  limit 1000
  for update skip locked
), woken as (
  update ${quotedSchema}.jobs_active j set state = 'available', run_at = now(), waiting_for = null
  from due where j.id = due.id and j.state = 'waiting'
  returning j.queue
)
select distinct queue from woken`;
