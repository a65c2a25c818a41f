// Read-side statements the operator surface needs beyond the reports and
// queue control: nodes, tasks, throughput, one job in full, and
// the progress of a page of jobs.

/** Finished jobs per queue and state over the last 24 hours (the queue list counts only unfinished ones). */
export const finishedCounts = (quotedSchema: string) => `
select queue, state, count(*)::int as count from ${quotedSchema}.jobs_finished where finished_at > now() - interval '24 hours' group by queue, state`;

export const nodes = (quotedSchema: string) => `
select node_id, node_types, queues, task_ids, hostname, pid, started_at, heartbeat_at,
       case when isfinite(heartbeat_at) then extract(epoch from now() - heartbeat_at)::float8 end as heartbeat_age_s, lease_expires_at > now() as alive
from ${quotedSchema}.nodes order by node_id`;

/** Finished jobs per minute over the last hour, by outcome. */
export const throughput = (quotedSchema: string) => `
select extract(epoch from date_trunc('minute', finished_at))::bigint * 1000 as minute, state, count(*)::int as count
from ${quotedSchema}.jobs_finished where finished_at > now() - interval '1 hour' and finished_at <= now()
group by 1, 2 order by 1`;

export const tasks = (quotedSchema: string) => `
select t.task_id, t.body_hash, t.file, t.fn, t.line, t.col, t.source, t.capture_names, t.kind, t.first_seen_at, t.last_seen_at,
       coalesce((select array_agg(n.node_id order by n.node_id) from ${quotedSchema}.nodes n where t.task_id = any(n.task_ids) and n.lease_expires_at > now()), '{}') as node_ids
from ${quotedSchema}.tasks t order by t.task_id, t.last_seen_at desc`;

/** One job with everything the detail view shows, and its task's caller and source (this exact body hash). */
export const jobDetail = (quotedSchema: string) => `
select j.id::text, j.state, j.queue, j.task_id, j.body_hash, j.priority, j.attempt, j.max_attempts, j.timeout_ms, j.meta, j.tags,
       j.progress, j.node_id, j.run_at, j.inserted_at, j.attempted_at, j.completed_at, j.discarded_at, j.cancelled_at, j.finished_at,
       j.captures, j.result, j.errors, j.trace, j.unique_key,
       j.expires_at, j.concurrency_key, j.concurrency_limit, j.on_discard is not null as has_discard_hook,
       t.file, t.fn, t.line, t.col, t.source, t.capture_names
from ${quotedSchema}.jobs j left join ${quotedSchema}.tasks t on t.task_id = j.task_id and t.body_hash = j.body_hash
where j.id = $1`;

/** Progress of the jobs on one list page (the report rows leave it out). */
export const progressOf = (quotedSchema: string) => `
select id::text, progress from ${quotedSchema}.jobs where id = any($1::bigint[]) and progress is not null`;
