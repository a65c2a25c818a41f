import { CLAIMABLE_STATES, sqlStates } from "../jobs/states.js";

// "Can a live node run this job?", in SQL, for the claim's neighbours: the
// waiting check, the unknown-task discard, the dashboard and the CLI. A node
// can run a job when its lease holds, it serves the job's queue, and it
// claims the job's "task_id:body_hash" key (nodes.task_keys: its own
// versions plus the recorded ones its body-hash policy accepts). A node row
// written by an older version of the package has task ids but no keys: it
// counts for every body hash of its task ids, as before. Draining nodes
// count: they still run the jobs no other build can.

const CLAIMABLE = sqlStates(CLAIMABLE_STATES);

/** A live node that serves the job's queue and claims its key (job alias `j`, node alias `n`). */
export const nodeRunsJob = (j: string, n = "n") =>
  `${n}.queues ? ${j}.queue and ((${j}.task_id || ':' || ${j}.body_hash) = any(${n}.task_keys) or (${n}.task_keys = '{}' and ${j}.task_id = any(${n}.task_ids)))`;

/** A due job no live node can run: it waits for a node with its task and body hash, or for one serving its queue. */
export const waitingForNode = (quotedSchema: string, j = "j") =>
  `(${j}.state in ${CLAIMABLE} and ${j}.run_at <= now()
    and not exists (select 1 from ${quotedSchema}.nodes n where n.lease_expires_at > now() and ${nodeRunsJob(j)}))`;

/**
 * Why each of the given due jobs waits, for the ones that do: whether a live
 * node serves the queue, and whether one has the task at all (then only its
 * body hash is held back: the capture names differ).
 */
export const waitingAmong = (quotedSchema: string) => `
select j.id::text, j.task_id, j.body_hash, j.queue,
       exists (select 1 from ${quotedSchema}.nodes n where n.lease_expires_at > now() and n.queues ? j.queue) as queue_served,
       exists (select 1 from ${quotedSchema}.nodes n where n.lease_expires_at > now() and n.queues ? j.queue and j.task_id = any(n.task_ids)) as task_known
from ${quotedSchema}.jobs_active j where j.id = any($1::bigint[]) and ${waitingForNode(quotedSchema)}`;

export interface WaitingReason {
  task: string;
  hash: string;
  /** "queue": no live node serves the queue; "task": none has the task; "hash": nodes have the task, but not a version whose capture names match. */
  reason: "queue" | "task" | "hash";
  text: string;
}

/** The operator-facing sentence for a waiting job. */
export function waitingReason(row: { task_id: string; body_hash: string; queue: string; queue_served: boolean; task_known: boolean }): WaitingReason {
  const task = row.task_id;
  const hash = row.body_hash;
  if (!row.queue_served) return { task, hash, reason: "queue", text: `waiting for a node that serves queue ${row.queue} (task ${task}, hash ${hash})` };
  if (!row.task_known) return { task, hash, reason: "task", text: `waiting for a node with task ${task} (hash ${hash})` };
  return { task, hash, reason: "hash", text: `waiting for a node with task ${task} (hash ${hash}): live nodes run other versions of it (its capture names differ, bodyHashPolicy holds it, or the id now names another call site of its file)` };
}

/**
 * The distinct (queue, task_id, body_hash) of due-or-later jobs, as the CTE
 * `k`: one index descent per key along the claim index, so a million queued
 * jobs of a few tasks cost a few descents, not a scan of every row.
 */
export const claimableKeys = (quotedSchema: string) => `k as (
  (select queue, task_id, body_hash from ${quotedSchema}.jobs_active where state in ${CLAIMABLE} order by queue, task_id, body_hash limit 1)
  union all
  select nx.queue, nx.task_id, nx.body_hash from k cross join lateral (
    select j.queue, j.task_id, j.body_hash from ${quotedSchema}.jobs_active j
    where j.state in ${CLAIMABLE} and (j.queue, j.task_id, j.body_hash) > (k.queue, k.task_id, k.body_hash)
    order by j.queue, j.task_id, j.body_hash limit 1
  ) nx
)`;

/**
 * Keys (queue, task id, body hash) of due jobs no live node can run whose
 * oldest has been due longer than $1 ms, with how many wait (counted up to
 * 10,000) and whether a live node has the task at all. The distinct keys of
 * the active partition are walked through the claim index (a loose index
 * scan: one descent per key), so the check costs per key, not per job.
 */
export const stuckKeys = (quotedSchema: string) => `
with recursive ${claimableKeys(quotedSchema)}, stuck as (
  select k.* from k
  where not exists (select 1 from ${quotedSchema}.nodes n where n.lease_expires_at > now() and ${nodeRunsJob("k")})
)
select s.queue, s.task_id, s.body_hash, w.n as count, extract(epoch from now() - greatest(w.oldest, 'epoch'::timestamptz))::float8 * 1000 as waited_ms,
       exists (select 1 from ${quotedSchema}.nodes n where n.lease_expires_at > now() and n.queues ? s.queue) as queue_served,
       exists (select 1 from ${quotedSchema}.nodes n where n.lease_expires_at > now() and n.queues ? s.queue and s.task_id = any(n.task_ids)) as task_known
from stuck s cross join lateral (
  select count(*)::int as n, min(run_at) as oldest from (
    select j.run_at from ${quotedSchema}.jobs_active j
    where j.queue = s.queue and j.task_id = s.task_id and j.body_hash = s.body_hash and j.state in ${CLAIMABLE} and j.run_at <= now()
    limit 10000
  ) due
) w
-- A hand-written run_at of -infinity is due; greatest() keeps the subtraction finite (it would raise).
where w.oldest < now() - ($1::bigint * interval '1 millisecond')`;
