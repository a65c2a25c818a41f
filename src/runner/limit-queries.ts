import { budgetFull, claimedColumns, claimedInOrder, nextAttempt, pickDueJobs, pickedRows } from "./queries.js";
// SQL of the limited claim: queues with a global concurrency or a
// rate limit claim under a per-queue advisory lock, so "how many may start"
// and "start them" cannot interleave between nodes. Unlimited queues never
// come here; their claim stays the one-statement fetchJobs.

/**
 * Its own statement: the allowance that follows must take its snapshot after
 * the lock is held. The local lock_timeout (set first, in the same select
 * list) keeps a stuck holder from stalling every node's claims: the waiter
 * errors out and the producer tries again on its next wake-up.
 */
export const lockQueue = `select set_config('lock_timeout', '10s', true), pg_advisory_xact_lock(hashtextextended($1::text, 0))`;

/**
 * How many of $2 wanted jobs may start now. $3: global concurrency, $4/$5:
 * rate limit allowed/period ms (nulls: no such limit). Starts are counted
 * from rate_limit_starts with no upper time bound, so a stamp taken slightly
 * in the past by a slow claimer is still counted by everyone after it. `at` is
 * the start stamp the claim must record; `wait_ms` says when the rate window
 * frees a slot. Starts that left the window are trimmed here, under the lock.
 */
export const allowance = (quotedSchema: string) => `
with clock as (select clock_timestamp() as at),
running as (
  -- executing rows are few (bounded by the cluster's concurrency); the partial node index holds exactly them
  select count(*)::int as n from ${quotedSchema}.jobs_active where $3::int is not null and queue = $1 and state = 'executing'
),
recent as (
  select count(*)::int as n, min(started_at) as oldest from ${quotedSchema}.rate_limit_starts
  where $4::int is not null and queue = $1 and started_at > (select at from clock) - $5::bigint * interval '1 millisecond'
),
trimmed as (
  delete from ${quotedSchema}.rate_limit_starts
  where queue = $1 and started_at <= (select at from clock) - coalesce($5::bigint, 0) * interval '1 millisecond'
  returning 1
)
select (select at from clock)::text as at,
       greatest(0, least($2::int,
                         coalesce($3::int - (select n from running), $2::int),
                         coalesce($4::int - (select n from recent), $2::int)))::int as n,
       case when $4::int is not null and (select n from recent) >= $4::int
            then greatest(1, ceil(extract(epoch from ((select oldest from recent) + $5::bigint * interval '1 millisecond' - (select at from clock))) * 1000))::int
       end as wait_ms,
       (select count(*) from trimmed)::int as trimmed`;

/** fetchJobs with the start stamp taken under the lock ($5); under a rate limit ($6) each start is recorded; $7 bytes. */
export const fetchLimitedJobs = (quotedSchema: string) => `
with picked as (${pickDueJobs(quotedSchema, "$7")}), claimed as (
  update ${quotedSchema}.jobs_active j
  set state = 'executing', attempt = ${nextAttempt("j")}, attempted_at = $5::timestamptz, node_id = $4
  where ${pickedRows}
  returning j.id, j.priority, j.run_at, ${claimedColumns("j")}, ${budgetFull}
), recorded as (
  insert into ${quotedSchema}.rate_limit_starts (queue, started_at, job_id)
  select $1, $5::timestamptz, c.id from claimed c where $6::boolean
  returning 1
)
select ${claimedInOrder("(select count(*) from recorded) >= 0")}`;
