import type { QueryableClient } from "../config/options.js";

// Hot insert path. All rows travel as one JSON document unpacked with
// jsonb_to_recordset: one parameter however many rows (no 65,535-parameter
// ceiling), and captures/meta, already JSON text, are spliced in as-is rather
// than escaped again element by element (pg's array encoding was most of the
// insert's CPU). One NOTIFY per queue per statement.

export interface JobRow {
  queue: string;
  taskId: string;
  bodyHash: string;
  priority: number;
  maxAttempts: number;
  timeoutMs: number;
  /** JSON text or null. */
  backoff: string | null;
  /** JSON text. */
  captures: string;
  /** JSON text. */
  meta: string;
  /** JSON text (an array of strings). */
  tags: string;
  runAt: Date | null;
  uniqueKey: string | null;
  /** JSON text or null. */
  trace: string | null;
}

export interface InsertedRow {
  id: string;
  state: string;
  queue: string;
}

export function insertJobsSql(q: string): string {
  return `
with ins as (
  insert into ${q}.jobs (state, queue, task_id, body_hash, priority, max_attempts, timeout_ms, backoff, captures, meta, tags, run_at, unique_key, trace)
  select case when r.run_at is not null and r.run_at > now() then 'scheduled' else 'available' end,
         r.queue, r.task_id, r.body_hash, r.priority, r.max_attempts, r.timeout_ms, r.backoff, r.captures, r.meta,
         case when r.tags = '[]'::jsonb then '{}'::text[] else array(select jsonb_array_elements_text(r.tags)) end,
         coalesce(r.run_at, now()), r.unique_key, r.trace
  from jsonb_to_recordset($1::jsonb) as r(queue text, task_id text, body_hash text, priority int, max_attempts int, timeout_ms int,
       backoff jsonb, captures jsonb, meta jsonb, tags jsonb, run_at timestamptz, unique_key text, trace jsonb)
  returning id, state, queue, run_at
), notified as (
  -- "queue" wakes nodes now; "queue@<epoch ms>" tells them when the earliest
  -- scheduled job is due, so it starts on time instead of on the next poll.
  select pg_notify($2, d.queue || coalesce('@' || d.due, '')) from (
    select queue, case when state = 'scheduled' then (extract(epoch from min(run_at)) * 1000)::bigint::text end as due
    from ins group by queue, state
  ) d
)
select id::text, state, queue from ins where (select count(*) from notified) >= 0`;
}

const str = (value: string | null) => (value === null ? "null" : JSON.stringify(value));

/** The rows as one JSON array; JSON-text fields are spliced in without re-encoding. */
export function rowsDocument(rows: JobRow[]): string {
  let out = "[";
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (i > 0) out += ",";
    out += `{"queue":${str(r.queue)},"task_id":${str(r.taskId)},"body_hash":${str(r.bodyHash)},"priority":${r.priority},` +
      `"max_attempts":${r.maxAttempts},"timeout_ms":${r.timeoutMs},"backoff":${r.backoff ?? "null"},"captures":${r.captures},` +
      `"meta":${r.meta},"tags":${r.tags},"run_at":${r.runAt ? str(r.runAt.toISOString()) : "null"},"unique_key":${str(r.uniqueKey)},"trace":${r.trace ?? "null"}}`;
  }
  return out + "]";
}

export function insertParams(rows: JobRow[], channel: string): unknown[] {
  return [rowsDocument(rows), channel];
}

/** Ids come from one sequence in row order, so sorting them restores the input order. */
export async function insertJobs(client: QueryableClient, q: string, rows: JobRow[], channel: string): Promise<InsertedRow[]> {
  const result = await client.query({ text: insertJobsSql(q), values: insertParams(rows, channel) });
  const inserted = result.rows as InsertedRow[];
  return inserted.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

export function upsertTasksSql(q: string): string {
  return `
insert into ${q}.tasks (task_id, body_hash, file, fn, line, col, source, capture_names, kind)
select t.task_id, t.body_hash, t.file, t.fn, t.line, t.col, t.source,
       array(select jsonb_array_elements_text(t.captures::jsonb)), t.kind
from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::text[], $9::text[])
     as t(task_id, body_hash, file, fn, line, col, source, captures, kind)
on conflict (task_id, body_hash) do update set last_seen_at = now(), file = excluded.file, fn = excluded.fn, line = excluded.line, col = excluded.col`;
}
