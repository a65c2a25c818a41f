import { CLAIMABLE_STATES, sqlStates } from "../jobs/states.js";
import { claimedColumns, nextAttempt } from "./queries.js";

// SQL of the per-key claim: jobs enqueued with `concurrency: { key, limit }`.
// The plain claim never takes them (pickDueJobs skips rows with a key); this
// claim takes them in a transaction of two statements, so "how many run with
// this key" and "start one more" cannot interleave between nodes:
//
// 1. lockDueKeys try-locks (advisory, transaction-scoped) the due keys that
//    are not saturated. A key another node is claiming right now is skipped,
//    not waited for, and so is a saturated key: neither holds back the
//    others (no head-of-line blocking).
// 2. claimKeyedJobs, a *following* statement, so its snapshot is taken with
//    the locks held and sees every claim committed before, counts each
//    locked key's executing jobs and claims at most limit - running of it.

const CLAIMABLE = sqlStates(CLAIMABLE_STATES);

/** A claim key "task_id:body_hash" split at its last colon (body hashes hold none), as queries.ts splits it. */
const keyParts = (k: string) => `left(${k}, length(${k}) - strpos(reverse(${k}), ':')) as task_id, right(${k}, strpos(reverse(${k}), ':') - 1) as body_hash`;

/** The due rows of the per-key claim: this queue ($1), tasks this node runs ($2), not past their deadline. */
const due = (j: string) => `${j}.queue = $1 and ${j}.state in ${CLAIMABLE} and ${j}.run_at <= now()
    and (${j}.expires_at is null or ${j}.expires_at > now()) and (${j}.task_id || ':' || ${j}.body_hash) = any($2::text[])`;

/** Executing jobs with key `k`, through the partial index that holds exactly them. */
const running = (quotedSchema: string, k: string) =>
  `(select count(*) from ${quotedSchema}.jobs_active e where e.concurrency_key = ${k} and e.state = 'executing')::int`;

/**
 * Up to $3 due, unsaturated keys in claim order, try-locked ($4: the lock
 * prefix), among the first $5 due keyed jobs (null: all). `due_keys` says
 * whether any keyed job is due at all (saturated or not), so the producer
 * knows whether to keep asking; `seen` whether the window was full. The
 * claim's commit skips the WAL flush wait, as the plain claim's does.
 */
export const lockDueKeys = (quotedSchema: string) => `
with head as materialized (
  -- The first $5 due keyed jobs in claim order (all when $5 is null): per task key a scan of
  -- jobs_active_claim_idx in claim order, merged, as the plain claim reads its heads.
  select h.key, h.lim, h.p, h.r from (select ${keyParts("k")} from unnest($2::text[]) k) tk
  cross join lateral (
    select j.concurrency_key as key, j.concurrency_limit as lim, j.priority as p, j.run_at as r, j.id
    from ${quotedSchema}.jobs_active j
    where j.queue = $1 and j.task_id = tk.task_id and j.body_hash = tk.body_hash and j.state in ${CLAIMABLE}
      and j.run_at <= now() and (j.expires_at is null or j.expires_at > now()) and j.concurrency_key is not null
    order by j.priority, j.run_at, j.id
    limit $5
  ) h
  order by h.p, h.r, h.id
  limit $5
), due as materialized (
  select key, max(lim) as lim, min(p) as p, min(r) as r from head group by key
), open as materialized (
  select d.key from due d where ${running(quotedSchema, "d.key")} < d.lim order by d.p, d.r limit $3
)
select (select count(*) from due)::int as due_keys, (select count(*) from head)::int as seen,
       coalesce((select array_agg(o.key) from open o where pg_try_advisory_xact_lock(hashtextextended($4::text || o.key, 0))), '{}') as keys,
       set_config('synchronous_commit', 'off', true) is not null as async_commit`;

/**
 * Claims, for each locked key ($5), its next due jobs while running + rank
 * stays within the job's limit; then up to $3 of them in claim order, cut by
 * the byte budget ($6) as the plain claim is. $4: this node.
 */
export const claimKeyedJobs = (quotedSchema: string) => `
with counted as (
  select k as key, ${running(quotedSchema, "k")} as n from unnest($5::text[]) k
), candidates as (
  select c.id, c.priority, c.run_at, c.bytes from counted cross join lateral (
    select x.*, row_number() over (order by x.priority, x.run_at, x.id) as rank from (
      select j.id, j.priority, j.run_at, j.concurrency_limit, octet_length(j.captures::text) + pg_column_size(j.meta) as bytes
      from ${quotedSchema}.jobs_active j
      where j.concurrency_key = counted.key and ${due("j")}
      order by j.priority, j.run_at, j.id
      limit $3
      for update skip locked
    ) x
  ) c where c.rank + counted.n <= c.concurrency_limit
), picked as (
  select id, upto >= $6 as full from (
    select id, bytes, sum(bytes) over (order by priority, run_at, id) as upto
    from (select * from candidates order by priority, run_at, id limit $3) firsts
  ) sized where upto - bytes < $6
), claimed as (
  update ${quotedSchema}.jobs_active j
  -- The statement's time, not the transaction's: this statement runs after the key locks were
  -- granted, so a start recorded here is never before the finish that freed its slot.
  set state = 'executing', attempt = ${nextAttempt("j")}, attempted_at = statement_timestamp(), node_id = $4
  where j.id = any(array(select id from picked))
  returning j.id, j.priority, j.run_at, ${claimedColumns("j")}
)
select c.id::text as id, ${claimedColumns("c")}, (select coalesce(bool_or(picked.full), false) from picked) as budget_full
from claimed c order by c.priority, c.run_at, c.id`;

/** Under a rate limit, keyed starts count like any other ($2: the stamp taken under the queue lock). */
export const recordKeyedStarts = (quotedSchema: string) => `
insert into ${quotedSchema}.rate_limit_starts (queue, started_at, job_id) select $1, $2::timestamptz, unnest($3::bigint[])`;
