// Statements of the nodes API: live nodes with their builds, draining a
// build, and what a draining node may still claim.

/** Every node row with its build, what it claims, and how many due jobs only it (and nodes of its build) can run. */
export const listNodes = (quotedSchema: string) => `
select n.node_id, n.build_id, n.node_types, n.queues, n.task_ids, n.task_keys, n.hostname, n.pid, n.started_at, n.draining,
       case when isfinite(n.heartbeat_at) then extract(epoch from now() - n.heartbeat_at)::float8 end as heartbeat_age_s,
       n.lease_expires_at > now() as alive
from ${quotedSchema}.nodes n order by n.build_id nulls last, n.node_id`;

/**
 * Due or scheduled jobs per build that no live node of another build can
 * run: what stopping the build would leave waiting. Counted per key through
 * the claim index, at most 10,000 per key (the dashboard reads this every
 * refresh): "0" is exact, a large number is a floor.
 */
export const jobsOnlyBuildRuns = (quotedSchema: string) => `
with live as (
  select node_id, coalesce(build_id, '') as build_id, queues, task_keys, task_ids from ${quotedSchema}.nodes where lease_expires_at > now()
), keys as (
  select distinct l.build_id, q.queue, k.key from live l cross join jsonb_object_keys(l.queues) q(queue) cross join unnest(l.task_keys) k(key)
), sole as (
  select k.* from keys k
  where not exists (select 1 from live o where o.build_id <> k.build_id and o.queues ? k.queue and k.key = any(o.task_keys))
)
select s.build_id, sum(c.n)::int as jobs from sole s
cross join lateral (
  select count(*)::int as n from (
    select 1 from ${quotedSchema}.jobs_active j
    where j.queue = s.queue and j.task_id = left(s.key, length(s.key) - strpos(reverse(s.key), ':'))
      and j.body_hash = right(s.key, strpos(reverse(s.key), ':') - 1) and j.state in ('available','scheduled','retryable')
    limit 10000
  ) capped
) c
group by s.build_id`;

export const drainBuild = (quotedSchema: string) => `
with marked as (insert into ${quotedSchema}.drained_builds (build_id) values ($1) on conflict (build_id) do nothing)
update ${quotedSchema}.nodes set draining = true where build_id = $1 returning node_id`;

export const undrainBuild = (quotedSchema: string) => `
with unmarked as (delete from ${quotedSchema}.drained_builds where build_id = $1)
update ${quotedSchema}.nodes set draining = false where build_id = $1 returning node_id`;

/** Whether this node's build is drained (read on every heartbeat and on a control notification). */
export const buildDrained = (quotedSchema: string) => `
select exists (select 1 from ${quotedSchema}.drained_builds where build_id = $1) as drained`;

/**
 * What live nodes of other builds that are not draining claim, per queue:
 * a draining node leaves those keys to them and claims only the rest (the
 * jobs only its build can run).
 */
export const keysOthersRun = (quotedSchema: string) => `
select q.queue, array_agg(distinct k.key) as keys
from ${quotedSchema}.nodes n cross join jsonb_object_keys(n.queues) q(queue) cross join unnest(n.task_keys) k(key)
where n.lease_expires_at > now() and not n.draining and n.build_id is distinct from $1 and q.queue = any($2::text[])
group by q.queue`;
