import type pg from "pg";
import { channels } from "../db/schema.js";
import { InvalidOptionError } from "../errors.js";
import { filterSql, type JobFilter } from "./filter.js";

// Operator writes: retry, cancel, delete by filter; pause, resume, scale a
// queue. Bulk writes go in bounded batches (SKIP LOCKED, so a batch never
// waits on a running claim) and report progress, so a CLI bar can follow a
// million-row cancel without one long transaction holding locks.

const BATCH = 1_000;

export type Progress = (done: number) => void;

interface Target {
  pool: pg.Pool;
  q: string;
  schema: string;
}

async function inBatches(
  t: Target,
  filter: JobFilter,
  statement: (where: string, limit: string, channel: string) => string,
  onProgress?: Progress,
  channel = "",
): Promise<number> {
  let done = 0;
  for (;;) {
    const params: unknown[] = [];
    const where = filterSql(filter, params);
    params.push(BATCH, channel);
    const { rows } = await t.pool.query(statement(where, `$${params.length - 1}`, `$${params.length}::text`), params);
    const n = rows.length > 0 ? Number(rows[0].n) : 0;
    done += n;
    onProgress?.(done);
    if (n < BATCH) return done;
  }
}

/** Back to available now; a job whose attempts are used up gets one more. Running and waiting jobs are left alone. */
export function retryJobs(t: Target, filter: JobFilter, onProgress?: Progress): Promise<number> {
  return inBatches(t, filter, (where, limit, channel) => `
with picked as (
  select j.id, j.state from ${t.q}.jobs j where ${where} and j.state in ('retryable','discarded','cancelled','completed')
  order by j.id limit ${limit} for update skip locked
), moved as (
  update ${t.q}.jobs j set state = 'available', run_at = now(), max_attempts = greatest(j.max_attempts, j.attempt + 1),
    completed_at = null, discarded_at = null, cancelled_at = null, finished_at = null, node_id = null, progress = null
  from picked p where j.id = p.id and j.state = p.state
  returning j.queue
), notified as (select pg_notify(${channel}, d.queue) from (select distinct queue from moved) d)
select count(*)::int as n from moved where (select count(*) from notified) >= 0`, onProgress, channels(t.schema).insert);
}

/**
 * Cancels pending and running jobs. A running job's row is cancelled at once;
 * its node's late acknowledgement is a no-op because acks only touch rows
 * still executing. The control notification tells nodes to abort the signal.
 */
export function cancelJobs(t: Target, filter: JobFilter, onProgress?: Progress): Promise<number> {
  return inBatches(t, filter, (where, limit, channel) => `
with picked as (
  select j.id, j.state from ${t.q}.jobs_active j where ${where} order by j.id limit ${limit} for update skip locked
), moved as (
  update ${t.q}.jobs j set state = 'cancelled', cancelled_at = now(), finished_at = now(), node_id = null,
    errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'at', now(), 'name', 'Cancel', 'code', 'DURABLE_CANCELLED',
      'message', 'cancelled by an operator'))
  from picked p where j.id = p.id and j.state = p.state
  returning j.id
), notified as (select pg_notify(${channel}, string_agg(id::text, ',')) from moved having count(*) > 0)
select count(*)::int as n from moved where (select count(*) from notified) >= 0`, onProgress, channels(t.schema).done);
}

/** Deletes jobs that are not running (a running job must be cancelled first). */
export function deleteJobs(t: Target, filter: JobFilter, onProgress?: Progress): Promise<number> {
  return inBatches(t, filter, (where, limit, channel) => `
with picked as (
  select j.id, j.state from ${t.q}.jobs j where ${where} and j.state <> 'executing' order by j.id limit ${limit} for update skip locked
), gone as (
  delete from ${t.q}.jobs j using picked p where j.id = p.id and j.state = p.state returning j.id
)
-- deletes notify nobody; the channel parameter is only referenced to keep the parameter list uniform
select count(*)::int as n from gone where ${channel} is not distinct from ${channel}`, onProgress);
}

/** Persisted, so every node (and nodes that start later) sees it; the notification makes running nodes re-read at once. */
export async function pauseQueue(t: Target, queue: string, forMs?: number): Promise<void> {
  await controlQueue(t, queue, { paused: true, paused_until: forMs === undefined ? null : new Date(Date.now() + forMs) });
}

export async function resumeQueue(t: Target, queue: string): Promise<void> {
  await controlQueue(t, queue, { paused: false, paused_until: null });
}

export async function scaleQueue(t: Target, queue: string, concurrency: number): Promise<void> {
  if (!Number.isInteger(concurrency) || concurrency < 0 || concurrency > 10_000) {
    throw new InvalidOptionError("concurrency", `expected an integer from 0 to 10000, got ${concurrency}.`);
  }
  await controlQueue(t, queue, { concurrency });
}

async function controlQueue(t: Target, queue: string, set: Record<"paused" | "paused_until" | "concurrency", unknown> | Record<string, unknown>): Promise<void> {
  // Column names come from the literal keys above, never from input.
  const columns = Object.keys(set);
  const values = Object.values(set);
  await t.pool.query(
    `insert into ${t.q}.queues (name, ${columns.join(", ")}) values ($1, ${columns.map((_, i) => `$${i + 2}`).join(", ")})
     on conflict (name) do update set ${columns.map((c) => `${c} = excluded.${c}`).join(", ")}, updated_at = now()`,
    [queue, ...values],
  );
  await t.pool.query(`select pg_notify($1, $2)`, [channels(t.schema).control, queue]);
}
