import { CLAIMABLE_STATES, FINISHED_STATES, sqlStates } from "../jobs/states.js";

// Every statement the runner sends, one function each, so the SQL that
// decides throughput sits in one reviewable place.

const CLAIMABLE = sqlStates(CLAIMABLE_STATES);
const FINISHED = sqlStates(FINISHED_STATES);

/**
 * The due jobs a claim takes, shared by the plain claim and the limited one
 * (limit-queries.ts): up to $3 by count, and by size, taken in claim order
 * while the jobs before fit in `budget` bytes of captures and meta (the
 * first always fits), so a few huge rows cannot take a worker's memory with
 * them. octet_length of the json captures reads the stored size without
 * detoasting; pg_column_size of the meta is its stored size. `full` marks
 * a claim the budget cut short: more jobs may be due though it took fewer
 * than it asked for.
 */
export const pickDueJobs = (quotedSchema: string, budget: string) => `
  select id, upto >= ${budget} as full from (
    select id, bytes, sum(bytes) over (order by priority, run_at, id) as upto
    from (
      select id, priority, run_at, octet_length(captures::text) + pg_column_size(meta) as bytes from ${quotedSchema}.jobs_active
      where queue = $1 and state in ${CLAIMABLE} and run_at <= now()
        and (task_id || ':' || body_hash) = any($2::text[])
        -- Past its deadline: never started late; the expiry sweep discards it.
        and (expires_at is null or expires_at > now())
        -- Jobs with a concurrency key are the keyed claim's (key-queries.ts).
        and concurrency_key is null
      order by priority, run_at, id
      limit $3
      for update skip locked
    ) due
  ) sized
  where upto - bytes < ${budget}`;

/** A claim's attempt number: one more, saturating below the integer's limit. */
export const nextAttempt = (t: string) => `least(${t}.attempt, 2147483646) + 1`;

/** What the executor needs of a claimed job (ClaimedJob), besides its id. */
export const claimedColumns = (t: string) =>
  ["task_id", "body_hash", "attempt", "max_attempts", "timeout_ms", "backoff", "captures", "row_key", "meta", "queue", "progress", "trace"].map((c) => `${t}.${c}`).join(", ");

/**
 * Claim up to $3 due jobs ($5 bytes) of queue $1 whose task this node can
 * run ($2 holds "task_id:body_hash" keys). SKIP LOCKED lets nodes claim side
 * by side; the claim works on the active partition only, never on finished
 * jobs. The attempt count saturates instead of overflowing its integer on a
 * row written with a huge one.
 */
export const fetchJobs = (quotedSchema: string) => `
with picked as (${pickDueJobs(quotedSchema, "$5")})
update ${quotedSchema}.jobs_active j
set state = 'executing', attempt = ${nextAttempt("j")}, attempted_at = now(), node_id = $4
from picked where j.id = picked.id
  -- A claim need not survive a server crash (the job would just be available
  -- again: at-least-once holds), so its commit skips the WAL flush wait.
  and (select set_config('synchronous_commit', 'off', true)) is not null
returning j.id::text, ${claimedColumns("j")}, picked.full as budget_full`;

/** The element of array parameter $n for the row being updated: its place is the job id's place in $1. */
const item = (n: number, type: string) => `($${n}::${type}[])[array_position($1::bigint[], j.id)]`;

/**
 * Records a batch of outcomes (completer.ts) in one statement. Element i of
 * the arrays is one job: $1 its id, $2 its outcome kind, $3 its result (JSON
 * text, for completed), $4 a JSON array holding its recorded error
 * (failures), $5 a delay in ms (retryable, snoozed). Only rows still
 * executing on this node ($6) change, so a late or duplicate outcome is a
 * no-op. A snooze gives its attempt back. One NOTIFY for the jobs that
 * reached a final state.
 *
 * No join with unnest(): under a cached generic plan the planner guesses
 * ten rows for the unnested arrays and one for this node's executing jobs,
 * picks a nested loop that re-runs the unnest for every executing job, and
 * a batch of 300 took seconds once outcomes queued up. Looking each row's
 * values up by its id's position scans only the rows being updated.
 */
export const recordOutcomes = (quotedSchema: string) => {
  const kind = item(2, "text");
  return `
with moved as (
  update ${quotedSchema}.jobs j
  set state = case ${kind} when 'snoozed' then 'scheduled' else ${kind} end,
      attempt = case ${kind} when 'snoozed' then greatest(j.attempt - 1, 0) else j.attempt end,
      result = case ${kind} when 'completed' then ${item(3, "text")}::json else j.result end,
      errors = case when ${item(4, "text")} is null then j.errors else j.errors || ${item(4, "text")}::jsonb end,
      run_at = case when ${kind} in ('retryable', 'snoozed') then now() + ${item(5, "bigint")} * interval '1 millisecond' else j.run_at end,
      completed_at = case ${kind} when 'completed' then now() else j.completed_at end,
      discarded_at = case ${kind} when 'discarded' then now() else j.discarded_at end,
      cancelled_at = case ${kind} when 'cancelled' then now() else j.cancelled_at end,
      finished_at = case when ${kind} in ${FINISHED} then now() else j.finished_at end,
      node_id = null
  where j.id = any($1::bigint[]) and j.state = 'executing' and j.node_id = $6
  returning j.id, j.state
)
select pg_notify($7, string_agg(id::text, ',')) from moved where state in ${FINISHED} having count(*) > 0`;
};

/** Graceful shutdown: hand unfinished jobs back at once, without spending their attempt. */
export const releaseJobs = (quotedSchema: string) => `
update ${quotedSchema}.jobs_active j
set state = 'available', attempt = greatest(j.attempt - 1, 0), node_id = null, run_at = now()
where j.id = any($1::bigint[]) and j.state = 'executing' and j.node_id = $2
returning j.queue`;

/**
 * Jobs this node holds but is not running: a claim that committed while its
 * reply was lost (half-open connection, query timeout). The node's lease stays
 * alive, so rescue never takes them; they go back once older than any claim
 * that could still be in flight ($3 ms), without spending the attempt.
 */
export const releaseForgottenJobs = (quotedSchema: string) => `
update ${quotedSchema}.jobs_active j
set state = 'available', attempt = greatest(j.attempt - 1, 0), node_id = null, run_at = now()
where j.node_id = $1 and j.state = 'executing' and not (j.id = any($2::bigint[]))
  and j.attempted_at < now() - ($3::bigint * interval '1 millisecond')
returning j.id::text, j.queue`;

export const registerNode = (quotedSchema: string) => `
insert into ${quotedSchema}.nodes (node_id, node_types, queues, task_ids, hostname, pid, lease_expires_at)
values ($1, $2, $3, $4, $5, $6, now() + ($7::bigint * interval '1 millisecond'))
on conflict (node_id) do update set node_types = excluded.node_types, queues = excluded.queues, task_ids = excluded.task_ids,
  heartbeat_at = now(), lease_expires_at = excluded.lease_expires_at`;

export const heartbeat = (quotedSchema: string) => `
update ${quotedSchema}.nodes set heartbeat_at = now(), lease_expires_at = now() + ($2::bigint * interval '1 millisecond')
where node_id = $1 returning node_id`;

export const unregisterNode = (quotedSchema: string) => `delete from ${quotedSchema}.nodes where node_id = $1`;

/**
 * Rescue jobs held by nodes without a live lease. The attempt that was running
 * counts (a job that crashes its node must not loop forever); if it was the
 * last one the job is discarded.
 */
export const rescueOrphanedJobs = (quotedSchema: string) => `
with orphaned as (
  select id from ${quotedSchema}.jobs_active j
  where j.state = 'executing'
    and not exists (select 1 from ${quotedSchema}.nodes n where n.node_id = j.node_id and n.lease_expires_at > now())
  for update skip locked
), rescued as (
  update ${quotedSchema}.jobs j
  set state = case when j.attempt >= j.max_attempts then 'discarded' else 'available' end,
      discarded_at = case when j.attempt >= j.max_attempts then now() end,
      finished_at = case when j.attempt >= j.max_attempts then now() end,
      run_at = now(), node_id = null,
      errors = j.errors || jsonb_build_array(jsonb_build_object(
        'attempt', j.attempt, 'at', now(), 'name', 'NodeLostError', 'code', 'DURABLE_NODE_LOST',
        'message', 'node ' || coalesce(j.node_id, '?') || ' stopped heartbeating while running this attempt; the job was rescued'))
  from orphaned o where j.id = o.id and j.state = 'executing'
  returning j.id::text, j.state, j.queue, j.task_id, j.attempt, j.max_attempts, j.errors->-1->>'message' as message
)
select * from rescued`;

export const deleteDeadNodes = (quotedSchema: string) => `delete from ${quotedSchema}.nodes where lease_expires_at < now() - interval '1 minute'`;

/**
 * Version skew: a due job whose task no live node advertises, in a queue that
 * live nodes serve, is discarded once it has waited longer than the grace
 * period. Bounded per pass.
 */
export const discardUnknownTasks = (quotedSchema: string) => `
with live as (
  select node_id, task_ids, queues from ${quotedSchema}.nodes where lease_expires_at > now()
), stuck as (
  select j.id from ${quotedSchema}.jobs_active j
  where j.state in ${CLAIMABLE} and j.run_at < now() - ($1::bigint * interval '1 millisecond')
    and exists (select 1 from live where live.queues ? j.queue)
    and not exists (select 1 from live where j.task_id = any(live.task_ids))
  limit 500
  for update skip locked
)
update ${quotedSchema}.jobs j
set state = 'discarded', discarded_at = now(), finished_at = now(),
    errors = j.errors || jsonb_build_array(jsonb_build_object(
      'attempt', j.attempt, 'at', now(), 'name', 'UnknownTaskError', 'code', 'DURABLE_UNKNOWN_TASK',
      'message', format('No running node has task "%s"%s after %s ms. Deploy the code that contains it, or delete the job.',
                        j.task_id,
                        coalesce((select format(' (called from %s:%s:%s)', t.file, t.line, t.col) from ${quotedSchema}.tasks t where t.task_id = j.task_id order by t.last_seen_at desc limit 1), ''),
                        $1::bigint)))
from stuck where j.id = stuck.id and j.state in ${CLAIMABLE}
returning j.id::text, j.task_id, j.attempt, j.max_attempts, j.errors->-1->>'message' as message`;

/** Body hashes recorded for our task ids, to decide which other versions we may run. */
export const taskVersions = (quotedSchema: string) => `
select task_id, body_hash, capture_names from ${quotedSchema}.tasks where task_id = any($1::text[])`;

/** Pause is judged by the database clock, so `pause({ for })` resumes on every node at the same moment. */
export const queueControls = (quotedSchema: string) => `
select name, coalesce(paused and (paused_until is null or paused_until > now()), false) as paused, concurrency,
       global_concurrency, rate_limit_allowed, rate_limit_period_ms
from ${quotedSchema}.queues where name = any($1::text[])`;

/** Which of the jobs running here were cancelled meanwhile (the fallback when a done notification was lost). */
export const cancelledAmong = (quotedSchema: string) => `
select id::text from ${quotedSchema}.jobs_finished where id = any($1::bigint[]) and state = 'cancelled'`;

export const saveProgress = (quotedSchema: string) => `
update ${quotedSchema}.jobs_active set progress = $2::jsonb where id = $1 and state = 'executing'`;
