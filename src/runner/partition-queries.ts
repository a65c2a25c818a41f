import { CLAIMABLE_STATES, sqlStates } from "../jobs/states.js";
import { claimedColumns, nextAttempt } from "./queries.js";

// SQL of the partitioned rate limit: `rateLimit: { allowed, period, by:
// "meta.accountId" }` counts the window per value of that meta path, so one
// noisy account cannot use up another's budget. It runs inside the limited
// claim's transaction, under the queue's advisory lock (limit-queries.ts),
// so counting a partition's starts and recording new ones cannot interleave
// between nodes.

const CLAIMABLE = sqlStates(CLAIMABLE_STATES);

/**
 * How far down the queue one claim looks for jobs of partitions with budget
 * left. Bounded so a claim stays cheap; a partition with more due jobs than
 * this ahead of the others (in priority and due order) delays them, it never
 * spends their budget.
 */
export const PARTITION_LOOKAHEAD = 5_000;

/**
 * Claims up to $3 jobs ($6 bytes) of queue $1 ($2: task keys, $4: node), each
 * while its partition (meta #>> $9; jobs without the path share the partition
 * "") has fewer than $7 starts recorded in the window of $8 ms before the
 * stamp $5 taken under the lock. Every claim is recorded as a start of its
 * partition.
 */
export const fetchPartitionedJobs = (quotedSchema: string) => `
with recent as (
  select rate_key, count(*)::int as n from ${quotedSchema}.rate_limit_starts
  where queue = $1 and rate_key is not null and started_at > $5::timestamptz - $8::bigint * interval '1 millisecond'
  group by rate_key
), due as (
  select j.id, j.priority, j.run_at, coalesce(j.meta #>> $9::text[], '') as rk, octet_length(j.captures::text) + pg_column_size(j.meta) as bytes
  from ${quotedSchema}.jobs_active j
  where j.queue = $1 and j.state in ${CLAIMABLE} and j.run_at <= now() and (j.expires_at is null or j.expires_at > now())
    and j.concurrency_key is null and (j.task_id || ':' || j.body_hash) = any($2::text[])
  order by j.priority, j.run_at, j.id
  limit ${PARTITION_LOOKAHEAD}
), allowed as (
  select r.id, r.priority, r.run_at, r.rk, r.bytes from (
    select d.*, row_number() over (partition by d.rk order by d.priority, d.run_at, d.id) as rank from due d
  ) r left join recent on recent.rate_key = r.rk
  where r.rank + coalesce(recent.n, 0) <= $7
  order by r.priority, r.run_at, r.id
  limit $3
), locked as (
  select j.id from ${quotedSchema}.jobs_active j where j.id = any(array(select id from allowed)) and j.state in ${CLAIMABLE} for update skip locked
), picked as (
  select s.id, s.rk, s.upto >= $6 as full from (
    select a.id, a.rk, a.bytes, sum(a.bytes) over (order by a.priority, a.run_at, a.id) as upto from allowed a where a.id in (select id from locked)
  ) s where s.upto - s.bytes < $6
), claimed as (
  update ${quotedSchema}.jobs_active j
  set state = 'executing', attempt = ${nextAttempt("j")}, attempted_at = $5::timestamptz, node_id = $4
  where j.id = any(array(select id from picked))
  returning j.id, j.priority, j.run_at, ${claimedColumns("j")}
), recorded as (
  insert into ${quotedSchema}.rate_limit_starts (queue, started_at, job_id, rate_key)
  select $1, $5::timestamptz, p.id, p.rk from picked p where p.id in (select id from claimed)
  returning 1
)
select c.id::text as id, ${claimedColumns("c")}, (select coalesce(bool_or(picked.full), false) from picked) as budget_full
from claimed c where (select count(*) from recorded) >= 0 order by c.priority, c.run_at, c.id`;

/** When the oldest partitioned start leaves the window ($2: the stamp, $3: period ms): the producer tries again then. */
export const partitionWait = (quotedSchema: string) => `
select greatest(1, ceil(extract(epoch from (min(started_at) + $3::bigint * interval '1 millisecond' - $2::timestamptz)) * 1000))::int as wait_ms
from ${quotedSchema}.rate_limit_starts where queue = $1 and rate_key is not null and started_at > $2::timestamptz - $3::bigint * interval '1 millisecond'`;

/** A keyed claim's starts in a partitioned queue count against each job's partition. */
export const recordPartitionedStarts = (quotedSchema: string) => `
insert into ${quotedSchema}.rate_limit_starts (queue, started_at, job_id, rate_key)
select $1, $2::timestamptz, j.id, coalesce(j.meta #>> $4::text[], '') from ${quotedSchema}.jobs_active j where j.id = any($3::bigint[])`;
