import { CLAIMABLE_STATES, FINISHED_STATES, sqlStates } from "../jobs/states.js";
import { failedDependency, waitsForDependencies } from "../steps/queries.js";
import { claimableKeys, nodeRunsJob } from "../nodes/live.js";

// Every statement the runner sends, one function each, so the SQL that
// decides throughput sits in one reviewable place.

const CLAIMABLE = sqlStates(CLAIMABLE_STATES);
const FINISHED = sqlStates(FINISHED_STATES);

/** A claim key "task_id:body_hash" split at its last colon (body hashes hold none). */
const keyParts = (k: string) => `left(${k}, length(${k}) - strpos(reverse(${k}), ':')) as task_id, right(${k}, strpos(reverse(${k}), ':') - 1) as body_hash`;

/**
 * The due jobs a claim takes, shared by the plain claim and the limited one
 * (limit-queries.ts): up to $3 by count, and by size, taken in claim order
 * while the jobs before fit in `budget` bytes of captures and meta (the
 * first always fits), so a few huge rows cannot take a worker's memory with
 * them. octet_length of the json captures reads the stored size without
 * detoasting; pg_column_size of the meta is its stored size. `full` marks
 * a claim the budget cut short: more jobs may be due though it took fewer
 * than it asked for.
 *
 * Only work this node can run is read: for each key in $2 (a
 * "task_id:body_hash" it claims), a LATERAL index scan of
 * jobs_active_claim_idx takes that key's head, at most $3 unlocked due rows
 * in claim order; the heads are merged in claim order (priority, then due
 * time, then id, across tasks) and cut to $3. Due jobs of other tasks or
 * other body hashes sit in other ranges of the index and are never visited,
 * so a claim costs one index descent per key plus the rows it takes. Rows
 * of a head that the merge leaves out stay locked only until this
 * statement commits.
 *
 * The keys go through json_array_elements_text, not unnest: unnest of a
 * known array tells the planner its length, so a custom plan for a node
 * with one or two keys looks cheaper than the generic plan (which assumes
 * ten), and PostgreSQL then re-plans the prepared claim on every call
 * (0.2-0.3 ms, as much as the claim itself). With a row estimate that does
 * not depend on the parameter the generic plan wins after five calls, as
 * it already did for nodes with more keys; the plan's shape is the same
 * either way (the LATERAL forces a nested loop over the keys). With a deep
 * queue (some 100k due jobs) the generic plan's estimate grows again (an
 * unknown LIMIT is taken as a tenth of the rows) and PostgreSQL goes back
 * to planning each claim: correct, only ~0.25 ms dearer.
 */
export const pickDueJobs = (quotedSchema: string, budget: string) => `
  select id, upto >= ${budget} as full from (
    select id, bytes, sum(bytes) over (order by priority, run_at, id) as upto
    from (
      select head.id, head.priority, head.run_at, head.bytes
      from (select ${keyParts("k")} from json_array_elements_text(array_to_json($2::text[])) as k(k)) key
      cross join lateral (
        select j.id, j.priority, j.run_at, octet_length(j.captures::text) + pg_column_size(j.meta) as bytes
        from ${quotedSchema}.jobs_active j
        where j.queue = $1 and j.task_id = key.task_id and j.body_hash = key.body_hash
          and j.state in ${CLAIMABLE} and j.run_at <= now()
          -- Past its deadline: never started late; the expiry sweep discards it.
          and (j.expires_at is null or j.expires_at > now())
          -- Jobs with a concurrency key are the keyed claim's (key-queries.ts).
          and j.concurrency_key is null
        order by j.priority, j.run_at, j.id
        limit $3
        for update skip locked
      ) head
      order by head.priority, head.run_at, head.id
      limit $3
    ) due
  ) sized
  where upto - bytes < ${budget}`;

/**
 * The claimed rows by their ids as one array: an index lookup by primary key
 * under any plan made while the partition held more than a few rows (one made
 * on a nearly empty partition scans it, and is re-made when it turns slow:
 * hotQuery in db/statements.ts). Joined as a table instead, the generic plan
 * of the prepared claim guesses many picked rows and hashes the whole partition.
 */
export const pickedRows = "j.id = any(array(select id from picked))";

/** Whether the byte budget cut the claim short, on every returned row (the producer asks whether any says so). */
export const budgetFull = "(select coalesce(bool_or(picked.full), false) from picked) as budget_full";

/** A claim's attempt number: one more, saturating below the integer's limit. */
export const nextAttempt = (t: string) => `least(${t}.attempt, 2147483646) + 1`;

/** What the executor needs of a claimed job (ClaimedJob), besides its id. */
export const claimedColumns = (t: string) =>
  ["task_id", "body_hash", "attempt", "max_attempts", "timeout_ms", "backoff", "captures", "row_key", "meta", "queue", "progress", "trace", "expires_at"].map((c) => `${t}.${c}`).join(", ");

/** The claimed rows (CTE `claimed`) as the producer gets them: in claim order, which is the order it starts them in. */
export const claimedInOrder = (where = "true") =>
  `c.id::text as id, ${claimedColumns("c")}, c.budget_full from claimed c where ${where} order by c.priority, c.run_at, c.id`;

/**
 * Claim up to $3 due jobs ($5 bytes) of queue $1 whose task this node can
 * run ($2 holds "task_id:body_hash" keys). SKIP LOCKED lets nodes claim side
 * by side; the claim works on the active partition only, never on finished
 * jobs. The attempt count saturates instead of overflowing its integer on a
 * row written with a huge one.
 */
export const fetchJobs = (quotedSchema: string) => `
with picked as (${pickDueJobs(quotedSchema, "$5")}), claimed as (
  update ${quotedSchema}.jobs_active j
  set state = 'executing', attempt = ${nextAttempt("j")}, attempted_at = now(), node_id = $4
  where ${pickedRows}
    -- A claim need not survive a server crash (the job would just be available
    -- again: at-least-once holds), so its commit skips the WAL flush wait.
    and (select set_config('synchronous_commit', 'off', true)) is not null
  returning j.id, j.priority, j.run_at, ${claimedColumns("j")}, ${budgetFull}
)
select ${claimedInOrder()}`;

/** The element of array parameter $n for the row being updated: its place is the job id's place in $1. */
const item = (n: number, type: string) => `($${n}::${type}[])[array_position($1::bigint[], j.id)]`;

/**
 * Records a batch of outcomes (completer.ts) in one statement. Element i of
 * the arrays is one job: $1 its id, $2 its outcome kind, $3 its result (JSON
 * text, for completed), $4 a JSON array holding its recorded error
 * (failures), $5 a delay in ms (retryable, snoozed, suspended), $8 the ids
 * a suspended job waits for (an array literal, '{}' for a timer alone).
 * Only rows still executing on this node ($6) change, so a late or
 * duplicate outcome is a no-op. A snooze and a suspension give their
 * attempt back. A suspended job waits ('waiting') while one of its jobs is
 * unfinished, is available at once when none is, and is scheduled at its
 * timer when it waits for none. One NOTIFY for the jobs that reached a final
 * state, carrying the result items in $10 (null where none); waiting jobs whose wait they end are woken (src/steps), with an
 * insert notice ($7 done, $9 insert channel).
 *
 * No join with unnest(): under a cached generic plan the planner guesses
 * ten rows for the unnested arrays and one for this node's executing jobs,
 * picks a nested loop that re-runs the unnest for every executing job, and
 * a batch of 300 took seconds once outcomes queued up. Looking each row's
 * values up by its id's position scans only the rows being updated.
 */
export const recordOutcomes = (quotedSchema: string) => {
  const kind = item(2, "text");
  const waitingFor = `${item(8, "text")}::bigint[]`;
  return `
with moved as (
  update ${quotedSchema}.jobs j
  set state = case ${kind} when 'snoozed' then 'scheduled'
                when 'suspended' then ${suspendedState(quotedSchema, waitingFor)}
                else ${kind} end,
      attempt = case when ${kind} in ('snoozed', 'suspended') then greatest(j.attempt - 1, 0) else j.attempt end,
      result = case ${kind} when 'completed' then ${item(3, "text")}::json else j.result end,
      errors = case when ${item(4, "text")} is null then j.errors else j.errors || ${item(4, "text")}::jsonb end,
      run_at = case when ${kind} in ('retryable', 'snoozed', 'suspended') then now() + ${item(5, "bigint")} * interval '1 millisecond' else j.run_at end,
      waiting_for = case ${kind} when 'suspended' then nullif(${waitingFor}, '{}') end,
      completed_at = case ${kind} when 'completed' then now() else j.completed_at end,
      discarded_at = case ${kind} when 'discarded' then now() else j.discarded_at end,
      cancelled_at = case ${kind} when 'cancelled' then now() else j.cancelled_at end,
      finished_at = case when ${kind} in ${FINISHED} then now() else j.finished_at end,
      node_id = null
  where j.id = any($1::bigint[]) and j.state = 'executing' and j.node_id = $6
  returning j.id, j.state
), ended as (
  select id, state from moved where state in ${FINISHED}
), woken as (${wakeWaiters(quotedSchema)}
), woke as (
  select count(pg_notify($9, json_build_object('queue', queue, 'due', null)::text)) as n from (select distinct queue from woken) q
), carried as (${carriedResults(10)}
)
select pg_notify($7, string_agg(id::text, ',') || coalesce((select ',' || string_agg(item, ',') from carried), '')) from ended
where (select n from woke) >= 0
having count(*) > 0`;
};

/**
 * The done notification's result items (src/db/carried-results.ts), made by
 * the writer for completed outcomes ($n, by position like the other arrays),
 * of the jobs that did end here. The writer sized them so that every id of
 * the batch and every item fit PostgreSQL's 8000-byte payload limit; the
 * jobs that end are a subset of those, so their payload fits too.
 */
const carriedResults = (n: number) => `
  select ($${n}::text[])[array_position($1::bigint[], id)] as item from ended where state = 'completed'`;

/** A suspended job's state: waiting while a job it waits for is unfinished; with none unfinished, available; with none at all, scheduled (a timer). */
const suspendedState = (quotedSchema: string, waitingFor: string) => `
  case when cardinality(${waitingFor}) = 0 then 'scheduled'
       when exists (select 1 from ${quotedSchema}.jobs_active c where c.id = any(${waitingFor})) then 'waiting'
       else 'available' end`;

/**
 * Waiting jobs whose wait the jobs that just ended (`ended`) are over:
 * all they wait for ended, or one failed (not for `after` dependencies:
 * those wait for all, and a failed one under the 'cancel' policy leaves the
 * job to the sweep, which cancels it). Two ends committed side by side
 * each see the other unfinished; the sweep (src/steps, wakeWaitingJobs)
 * wakes what this misses.
 */
const wakeWaiters = (quotedSchema: string) => `
  update ${quotedSchema}.jobs_active p set state = 'available', run_at = now(), waiting_for = null
  where p.state = 'waiting' and p.waiting_for && (select array_agg(id) from ended)
    and ((exists (select 1 from ended e where e.id = any(p.waiting_for) and e.state in ('discarded', 'cancelled'))
          and not ${waitsForDependencies(quotedSchema, "p")})
         or not exists (select 1 from ${quotedSchema}.jobs_active c where c.id = any(p.waiting_for) and c.id not in (select id from ended)))
    and not ${failedDependency(quotedSchema, "p", (x) => `(${x} in (select id from ended where state in ('discarded', 'cancelled'))
      or exists (select 1 from ${quotedSchema}.jobs_finished f where f.id = ${x} and f.state in ('discarded', 'cancelled')))`)}
  returning p.queue`;

/** Claimed jobs this node never started (shutdown, a removed queue, a pause): back at once, without spending their attempt. */
export const releaseJobs = (quotedSchema: string) => `
update ${quotedSchema}.jobs_active j
set state = 'available', attempt = greatest(j.attempt - 1, 0), node_id = null, run_at = now()
where j.id = any($1::bigint[]) and j.state = 'executing' and j.node_id = $2
returning j.queue`;

/**
 * Graceful shutdown past its grace: closures still running here are handed
 * back, and their attempt counts (it ran, and may have done its side effects
 * in part), as when a node is lost: retried, or discarded if it was the
 * last one, so `maxAttempts: 1` never runs twice. The error says why.
 */
export const interruptJobs = (quotedSchema: string) => `
update ${quotedSchema}.jobs j
set ${handedBackCounted("'ShutdownInterruptedError'", "'DURABLE_SHUTDOWN_INTERRUPTED'",
  "'node ' || $2 || ' shut down while this attempt was still running (its shutdown grace of ' || $3 || ' ms ran out); the job was handed back'")}
where j.id = any($1::bigint[]) and j.state = 'executing' and j.node_id = $2
returning ${handedBackColumns}`;

/**
 * The SET list of a running job handed back with its attempt counted (a
 * rescue after a lost node, a shutdown past its grace): available again, or
 * discarded after its last attempt, with an error saying why (SQL texts).
 */
const handedBackCounted = (name: string, code: string, message: string) => `
    state = case when j.attempt >= j.max_attempts then 'discarded' else 'available' end,
    discarded_at = case when j.attempt >= j.max_attempts then now() end,
    finished_at = case when j.attempt >= j.max_attempts then now() end,
    run_at = now(), node_id = null,
    errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'at', now(), 'name', ${name}, 'code', ${code}, 'message', ${message}))`;

/** What the rescuer and the shutdown log of a job handed back with its attempt counted (outcome-report.ts logDiscarded). */
const handedBackColumns = "j.id::text, j.state, j.queue, j.task_id, j.attempt, j.max_attempts, j.errors->-1->>'message' as message";

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

/**
 * A node's row: what it runs (node types, queues with their limits, task ids,
 * the "task_id:body_hash" keys it claims), its build, and whether that build
 * is drained.
 */
export const registerNode = (quotedSchema: string) => `
insert into ${quotedSchema}.nodes (node_id, node_types, queues, task_ids, hostname, pid, lease_expires_at, build_id, task_keys, draining)
values ($1, $2, $3, $4, $5, $6, now() + ($7::bigint * interval '1 millisecond'), $8, $9,
        exists (select 1 from ${quotedSchema}.drained_builds d where d.build_id = $8))
on conflict (node_id) do update set node_types = excluded.node_types, queues = excluded.queues, task_ids = excluded.task_ids,
  build_id = excluded.build_id, task_keys = excluded.task_keys, draining = excluded.draining,
  heartbeat_at = now(), lease_expires_at = excluded.lease_expires_at
returning draining`;

/** Keeps the lease, and reads whether the node's build was drained (or undrained) meanwhile. */
export const heartbeat = (quotedSchema: string) => `
update ${quotedSchema}.nodes n set heartbeat_at = now(), lease_expires_at = now() + ($2::bigint * interval '1 millisecond'),
  draining = exists (select 1 from ${quotedSchema}.drained_builds d where d.build_id = n.build_id)
where node_id = $1 returning node_id, draining`;

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
  set ${handedBackCounted("'NodeLostError'", "'DURABLE_NODE_LOST'",
    "'node ' || coalesce(j.node_id, '?') || ' stopped heartbeating while running this attempt; the job was rescued'")}
  from orphaned o where j.id = o.id and j.state = 'executing'
  returning ${handedBackColumns}
)
select * from rescued`;

export const deleteDeadNodes = (quotedSchema: string) => `delete from ${quotedSchema}.nodes where lease_expires_at < now() - interval '1 minute'`;

/**
 * Version skew: a due job no live node can run (none claims its task id and
 * body hash), in a queue live nodes serve, is discarded once it has waited
 * longer than the grace period, saying whether no node has the task or none
 * runs that version of it (its capture names differ). Bounded per pass.
 * The check is per key (queue, task, body hash), walked through the claim
 * index, and only the jobs of stuck keys are read: a scan of every queued
 * job took seconds per pass at a million queued, on every node.
 */
export const discardUnknownTasks = (quotedSchema: string) => `
with recursive ${claimableKeys(quotedSchema)}, live as (
  select node_id, task_ids, task_keys, queues from ${quotedSchema}.nodes where lease_expires_at > now()
), stuck_keys as (
  select k.queue, k.task_id, k.body_hash from k
  where exists (select 1 from live where live.queues ? k.queue)
    and not exists (select 1 from live n where ${nodeRunsJob("k")})
), stuck as (
  -- In claim-index order: a plan that scanned the table for the first 500 of
  -- a key would read every queued job when the key's jobs are few.
  select s.id
  from stuck_keys sk cross join lateral (
    select j.id from ${quotedSchema}.jobs_active j
    where j.queue = sk.queue and j.task_id = sk.task_id and j.body_hash = sk.body_hash
      and j.state in ${CLAIMABLE} and j.run_at < now() - ($1::bigint * interval '1 millisecond')
    order by j.priority, j.run_at, j.id
    limit 500
    for update skip locked
  ) s
  limit 500
)
update ${quotedSchema}.jobs j
set state = 'discarded', discarded_at = now(), finished_at = now(),
    errors = j.errors || jsonb_build_array(jsonb_build_object(
      'attempt', j.attempt, 'at', now(), 'name', 'UnknownTaskError', 'code', 'DURABLE_UNKNOWN_TASK',
      'message', case when exists (select 1 from live where live.queues ? j.queue and j.task_id = any(live.task_ids))
        then format('No running node runs version %s of task "%s"%s after %s ms: the running code has this task with other capture names (recorded: %s), so it cannot take this job''s captures. Run a node of the build that enqueued it, or delete the job.',
                    j.body_hash, j.task_id, ${callerOf(quotedSchema, "j")}, $1::bigint,
                    coalesce((select nullif(array_to_string(t.capture_names, ', '), '') from ${quotedSchema}.tasks t where t.task_id = j.task_id and t.body_hash = j.body_hash), 'none'))
        else format('No running node has task "%s"%s after %s ms. Deploy the code that contains it, or delete the job.',
                    j.task_id, ${callerOf(quotedSchema, "j")}, $1::bigint)
      end))
-- By id through the primary key: a join with the candidates may be planned as a scan of the partition.
where j.id = any(array(select id from stuck)) and j.state in ${CLAIMABLE}
returning j.id::text, j.task_id, j.attempt, j.max_attempts, j.errors->-1->>'message' as message`;

/** Where a job's task was enqueued from, for messages: " (called from file:line:col)", or "". */
function callerOf(quotedSchema: string, j: string): string {
  return `coalesce((select format(' (called from %s:%s:%s)', t.file, t.line, t.col) from ${quotedSchema}.tasks t where t.task_id = ${j}.task_id order by (t.body_hash = ${j}.body_hash) desc, t.last_seen_at desc limit 1), '')`;
}

/** Body hashes recorded for our task ids, to decide which other versions we may run. */
/** Recorded versions of this node's task ids ($1), and every id recorded with one of its body hashes ($2): the moved call sites. */
export const taskVersions = (quotedSchema: string) => `
select task_id, body_hash, capture_names, file from ${quotedSchema}.tasks where task_id = any($1::text[]) or body_hash = any($2::text[])`;

/** Pause is judged by the database clock, so `pause({ for })` resumes on every node at the same moment. */
export const queueControls = (quotedSchema: string) => `
select name, coalesce(paused and (paused_until is null or paused_until > now()), false) as paused, concurrency,
       global_concurrency, rate_limit_allowed, rate_limit_period_ms, rate_limit_by
from ${quotedSchema}.queues where name = any($1::text[])`;

/** Which of the jobs running here were cancelled meanwhile (the fallback when a done notification was lost). */
export const cancelledAmong = (quotedSchema: string) => `
select id::text from ${quotedSchema}.jobs_finished where id = any($1::bigint[]) and state = 'cancelled'`;

export const saveProgress = (quotedSchema: string) => `
update ${quotedSchema}.jobs_active set progress = $2::jsonb where id = $1 and state = 'executing'`;
