// Read-side statements of the operator surface (dashboard and CLI): the
// overview, nodes, tasks and one job in full. `q` is the quoted schema.
// Writes (retry, cancel, delete, pause, scale) live in ./actions.ts.

/** Job counts per queue and state. Counting the active partition is cheap; finished jobs only for the recent window. */
export const queueCounts = (q: string) => `
select queue, state, count(*)::int as count from ${q}.jobs_active group by queue, state
union all
select queue, state, count(*)::int from ${q}.jobs_finished where finished_at > now() - interval '24 hours' group by queue, state`;

export const queueControls = (q: string) => `
select name, paused, paused_until, concurrency, global_concurrency, rate_limit_allowed, rate_limit_period_ms from ${q}.queues`;

export const nodes = (q: string) => `
select node_id, node_types, queues, task_ids, hostname, pid, started_at, heartbeat_at,
       extract(epoch from now() - heartbeat_at)::float8 as heartbeat_age_s, lease_expires_at > now() as alive
from ${q}.nodes order by node_id`;

/** Finished jobs per minute over the last hour, by outcome. */
export const throughput = (q: string) => `
select extract(epoch from date_trunc('minute', finished_at))::bigint * 1000 as minute, state, count(*)::int as count
from ${q}.jobs_finished where finished_at > now() - interval '1 hour'
group by 1, 2 order by 1`;

export const tasks = (q: string) => `
select t.task_id, t.body_hash, t.file, t.fn, t.line, t.col, t.source, t.capture_names, t.kind, t.first_seen_at, t.last_seen_at,
       coalesce((select array_agg(n.node_id order by n.node_id) from ${q}.nodes n where t.task_id = any(n.task_ids) and n.lease_expires_at > now()), '{}') as node_ids
from ${q}.tasks t order by t.task_id, t.last_seen_at desc`;

const jobColumns = `j.id::text, j.state, j.queue, j.task_id, j.body_hash, j.priority, j.attempt, j.max_attempts, j.timeout_ms, j.meta, j.tags,
  j.progress, j.node_id, j.run_at, j.inserted_at, j.attempted_at, j.completed_at, j.discarded_at, j.cancelled_at, j.finished_at`;

/** One job with everything the detail view shows, and its task's caller and source (this exact body hash). */
export const jobDetail = (q: string) => `
select ${jobColumns}, j.captures, j.result, j.errors, j.trace, j.unique_key,
       t.file, t.fn, t.line, t.col, t.source, t.capture_names
from ${q}.jobs j left join ${q}.tasks t on t.task_id = j.task_id and t.body_hash = j.body_hash
where j.id = $1`;

/** A page of jobs, newest first, keyset-free (offset) because operators page a few screens at most. */
export const listJobs = (q: string, where: string, limitParam: string, offsetParam: string) => `
select ${jobColumns}, (select e->>'message' from jsonb_array_elements(j.errors) e order by (e->>'attempt')::int desc nulls last limit 1) as last_error
from ${q}.jobs j where ${where}
order by j.id desc limit ${limitParam} offset ${offsetParam}`;

export const countJobs = (q: string, where: string) => `select count(*)::int as count from ${q}.jobs j where ${where}`;

/** Export batches walk ids downwards, so memory stays flat however many rows match. */
export const exportBatch = (q: string, where: string, afterParam: string, limitParam: string) => `
select ${jobColumns}, j.captures, j.result, j.errors
from ${q}.jobs j where ${where} and j.id < ${afterParam}
order by j.id desc limit ${limitParam}`;
