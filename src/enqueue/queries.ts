import type { QueryableClient } from "../config/options.js";

// Hot insert path. All rows go through unnest() over one array per column, so
// a bulk insert is one statement with 14 parameters however many rows it has
// (no 65,535-parameter ceiling), and one NOTIFY per queue per statement.

export interface JobRow {
  queue: string;
  taskId: string;
  bodyHash: string;
  priority: number;
  maxAttempts: number;
  timeoutMs: number;
  backoff: string | null;
  captures: string;
  meta: string;
  tags: string;
  runAt: Date | null;
  uniqueKey: string | null;
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
         r.queue, r.task_id, r.body_hash, r.priority, r.max_attempts, r.timeout_ms, r.backoff::jsonb, r.captures::jsonb, r.meta::jsonb,
         case when r.tags = '[]' then '{}'::text[] else array(select jsonb_array_elements_text(r.tags::jsonb)) end,
         coalesce(r.run_at, now()), r.unique_key, r.trace::jsonb
  from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::text[], $8::text[], $9::text[], $10::text[],
              $11::timestamptz[], $12::text[], $13::text[]) with ordinality
       as r(queue, task_id, body_hash, priority, max_attempts, timeout_ms, backoff, captures, meta, tags, run_at, unique_key, trace, n)
  order by r.n
  returning id, state, queue, run_at
), notified as (
  -- "queue" wakes nodes now; "queue@<epoch ms>" tells them when the earliest
  -- scheduled job is due, so it starts on time instead of on the next poll.
  select pg_notify($14, d.queue || coalesce('@' || d.due, '')) from (
    select queue, case when state = 'scheduled' then (extract(epoch from min(run_at)) * 1000)::bigint::text end as due
    from ins group by queue, state
  ) d
)
select id::text, state, queue from ins where (select count(*) from notified) >= 0`;
}

export function insertParams(rows: JobRow[], channel: string): unknown[] {
  const col = <K extends keyof JobRow>(k: K) => rows.map((r) => r[k]);
  return [
    col("queue"), col("taskId"), col("bodyHash"), col("priority"), col("maxAttempts"), col("timeoutMs"), col("backoff"),
    col("captures"), col("meta"), col("tags"), col("runAt"), col("uniqueKey"), col("trace"), channel,
  ];
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
