import { ACTIVE_STATES, FINISHED_STATES, sqlStates } from "../jobs/states.js";

// The statements of durable steps: the journal (steps table), a job's wait
// for others (jobs.waiting_for), and the wake-ups when they end.

const FINISHED = sqlStates(FINISHED_STATES);
const ACTIVE = sqlStates(ACTIVE_STATES);

/**
 * "A finished job matching `idMatch` failed" as one probe of the primary key
 * per id. Failed is written `<> 'completed'` (jobs_finished holds completed,
 * discarded and cancelled only), not `in ('discarded', 'cancelled')`: that
 * form lets the planner scan the (state, finished_at) index instead, which
 * looks cheap whenever the table's statistics predate the failures
 * (autovacuum analyzes again only after 10% of the table changed), and it
 * then read every failed job once per waiting job: 4 s for one page of the
 * cancel sweep with 6,000 failures among a million retained jobs.
 */
const failedFinished = (quotedSchema: string, f: string, idMatch: string) =>
  `exists (select 1 from ${quotedSchema}.jobs_finished ${f} where ${idMatch} and ${f}.state <> 'completed')`;

/**
 * A job's whole journal in one query, each child with its current outcome,
 * so a replay of a parent with 1,000 steps costs one round trip, not 1,000.
 */
export const loadJournal = (quotedSchema: string) => `
select s.step_key, s.position, s.kind, s.task_id, s.caller, s.child_id::text as child_id, s.value, s.wake_at,
       c.state as child_state, c.queue as child_queue, c.result as child_result, c.errors->-1 as child_error, c.finished_at as child_finished_at
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

/**
 * CTEs (for a WITH RECURSIVE list) that cancel the unfinished descendants
 * of the jobs in `cancelled`: their children, the children's children, …
 * (through the journal), so cancelling a parent stops the work it started.
 * Defines `cascaded` (the ids it cancelled).
 */
export const cancelDescendants = (quotedSchema: string) => `
descendants(id) as (
  select s.child_id from ${quotedSchema}.steps s where s.parent_id in (select id from cancelled) and s.child_id is not null
  union
  select s.child_id from ${quotedSchema}.steps s join descendants d on s.parent_id = d.id where s.child_id is not null
), cascaded as (
  update ${quotedSchema}.jobs j set state = 'cancelled', cancelled_at = now(), finished_at = now(), node_id = null,
    errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'at', now(), 'name', 'Cancel',
      'code', 'DURABLE_CANCELLED', 'message', 'cancelled with its parent job'))
  where j.id in (select id from descendants) and j.id not in (select id from cancelled) and j.state in ${ACTIVE}
  returning j.id
)`;

/**
 * Jobs inserted with `after` (in the inserting transaction): one journal row
 * per dependency (kind 'after', the policy in task_id, negative positions so
 * they never meet the job's own steps), and the job waits while a dependency
 * is unfinished, or failed under the 'cancel' policy (the sweep cancels it).
 * $1 job ids, $2 their dependency ids as array literals, $3 the policies.
 */
export const recordDependencies = (quotedSchema: string) => `
with d as (
  select id, deps::bigint[] as deps, policy from unnest($1::bigint[], $2::text[], $3::text[]) as d(id, deps, policy)
), journal as (
  insert into ${quotedSchema}.steps (parent_id, step_key, position, kind, task_id, child_id)
  select d.id, 'after#' || u.dep, -u.ord::int, 'after', d.policy, u.dep from d, unnest(d.deps) with ordinality as u(dep, ord)
  on conflict do nothing
)
update ${quotedSchema}.jobs_active j set state = 'waiting', waiting_for = d.deps
from d where j.id = d.id and j.state in ('available', 'scheduled')
  and (exists (select 1 from ${quotedSchema}.jobs_active c where c.id = any(d.deps))
       or (d.policy = 'cancel' and ${failedFinished(quotedSchema, "f", "f.id = any(d.deps)")}))
returning j.id::text, j.state`;

/**
 * True (for waiting job p) when a dependency it was inserted `after` under
 * the 'cancel' policy failed: such a job is cancelled, never woken. `failed`
 * is SQL for "job id x failed" (the statement's own ends may not be visible
 * in jobs_finished yet).
 */
export const failedDependency = (quotedSchema: string, p: string, failed: (x: string) => string) => `
  exists (select 1 from ${quotedSchema}.steps s
          where s.parent_id = ${p}.id and s.kind = 'after' and s.task_id = 'cancel' and s.child_id = any(${p}.waiting_for) and ${failed("s.child_id")})`;

/** True when p waits for dependencies it was inserted `after` (they wake it only once all ended, even if one failed). */
export const waitsForDependencies = (quotedSchema: string, p: string) => `
  exists (select 1 from ${quotedSchema}.steps s where s.parent_id = ${p}.id and s.kind = 'after' and s.child_id = any(${p}.waiting_for))`;

const failedInFinished = (quotedSchema: string) => (x: string) =>
  failedFinished(quotedSchema, "f", `f.id = ${x}`);

/** The state of awaited jobs, with the outcome of those that ended, in one query for all an execution waits on. */
export const readOutcomes = (quotedSchema: string) => `
select id::text, state,
       case when state in ${FINISHED} then result end as result,
       case when state in ${FINISHED} then errors->-1 end as last_error, finished_at
from ${quotedSchema}.jobs where id = any($1::bigint[])`;

/**
 * One page of waiting jobs for the sweeps below: up to $2 after id $1, in id
 * order. A pass reads one page, not every waiting job: with 50,000 jobs
 * waiting on their children both sweeps took 320 ms every beat on every node.
 */
const waitingPage = (quotedSchema: string) => `page as (
  select p.id from ${quotedSchema}.jobs_active p where p.state = 'waiting' and p.id > $1::bigint order by p.id limit $2::int
)`;

/**
 * Waiting jobs whose wait is over: every job they wait for ended, or one of
 * them failed (the replay rethrows at once). The completer wakes most of
 * them as it records the ends; this sweep catches the rest (two ends
 * committed side by side, each seeing the other still running), one page
 * per pass. Returns the page's last id and size, and the queues it woke.
 */
export const wakeWaitingJobs = (quotedSchema: string) => `
with ${waitingPage(quotedSchema)}, due as (
  select p.id from ${quotedSchema}.jobs_active p
  where p.state = 'waiting' and p.id = any(array(select id from page))
    and (not exists (select 1 from ${quotedSchema}.jobs_active c where c.id = any(p.waiting_for))
         -- A timed durable.await() inside the job: its deadline passed (run_at; an untimed wait holds a far
         -- one, and the run_at of a job waiting for its 'after' dependencies is when it may run once they end).
         or (p.run_at <= now() and not ${waitsForDependencies(quotedSchema, "p")})
         or (${failedFinished(quotedSchema, "f", "f.id = any(p.waiting_for)")}
             and not ${waitsForDependencies(quotedSchema, "p")}))
    and not ${failedDependency(quotedSchema, "p", failedInFinished(quotedSchema))}
  for update skip locked
), woken as (
  update ${quotedSchema}.jobs_active j set state = 'available', run_at = now(), waiting_for = null
  from due where j.id = due.id and j.state = 'waiting'
  returning j.queue
)
select (select max(id) from page)::text as upto, (select count(*) from page)::int as seen,
       array(select distinct queue from woken) as queues`;

/**
 * Waiting jobs a failed `after` dependency cancels (policy 'cancel'), with
 * the dependency named. This is the only path that cancels them, so it does
 * not wait for its page: besides the page the wake sweep reads ($1, $2) it
 * takes the waiting jobs of every job that failed in the last $3 ms (the
 * (state, finished_at) index, then the waiting_for index), so a dependent
 * is cancelled on the next pass however many jobs wait. Their own
 * dependents follow on the next pass.
 */
export const cancelFailedDependents = (quotedSchema: string) => `
with ${waitingPage(quotedSchema)}, recent as (
  select f.id from ${quotedSchema}.jobs_finished f
  where f.state in ('discarded', 'cancelled') and f.finished_at > now() - $3::bigint * interval '1 millisecond'
  limit 10000
), candidates as (
  select id from page
  union
  select p.id from ${quotedSchema}.jobs_active p where p.state = 'waiting' and p.waiting_for && array(select id from recent)
), doomed as (
  select p.id, x.failed_id, x.failed_state
  from ${quotedSchema}.jobs_active p
  cross join lateral (
    -- The journal first, then each dependency by id (failedFinished says why not by state).
    select s.child_id as failed_id, f.state as failed_state from ${quotedSchema}.steps s
    cross join lateral (select f.state from ${quotedSchema}.jobs_finished f where f.id = s.child_id and f.state <> 'completed') f
    where s.parent_id = p.id and s.kind = 'after' and s.task_id = 'cancel' and s.child_id = any(p.waiting_for)
    limit 1
  ) x
  where p.state = 'waiting' and p.id = any(array(select id from candidates))
  order by p.id
  for update of p skip locked
)
update ${quotedSchema}.jobs j set state = 'cancelled', cancelled_at = now(), finished_at = now(), waiting_for = null,
  errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'at', now(), 'name', 'DependencyFailedError',
    'code', 'DURABLE_DEPENDENCY_FAILED',
    'message', format('job %s, which this job runs after, was %s; this job was cancelled without running. Pass afterFailure: "run" to run it anyway.', d.failed_id, d.failed_state)))
from doomed d where j.id = d.id and j.state = 'waiting'
returning j.id::text`;

/** A CTE deleting the journals of the jobs a statement deletes (CTE `gone`, their ids). */
export const deleteJournals = (quotedSchema: string) => `
journal as (delete from ${quotedSchema}.steps s using gone g where s.parent_id = g.id)`;
