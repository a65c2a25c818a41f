import type { QueryableClient } from "../config/options.js";
import type { CheckedRows, UniqueCheck } from "../unique/index.js";

// Hot insert path. A batch travels as two JSON documents: the distinct
// row *templates* (everything but the captures and the unique key: queue,
// task, options, meta, tags, run_at, trace), usually one per batch, and the
// rows as `[template index, captures text, unique key?, row key?]`. The server parses a
// few dozen bytes per job instead of the whole option set repeated, which
// was most of the statement's time. Meta, already JSON text, is spliced in
// as-is. Captures travel as a JSON *string* holding their text: jsonb
// would refuse the \u0000 and lone-surrogate escapes they may hold (and
// reorder their keys), while the string's own escapes are plain ASCII; the
// json column then keeps the text exactly. Rows come out of
// jsonb_array_elements in input order, so ids (one sequence) follow the
// input. One NOTIFY per queue per statement.

export interface JobRow {
  queue: string;
  taskId: string;
  bodyHash: string;
  priority: number;
  maxAttempts: number;
  timeoutMs: number;
  /** JSON text or null. */
  backoff: string | null;
  /** JSON text (stored as is, in a json column). */
  captures: string;
  /** The UUID sealed captures are bound to (src/serialize/codec.ts sealPlaces), or null when they are not sealed. */
  rowKey: string | null;
  /** JSON text. */
  meta: string;
  /** JSON text (an array of strings). */
  tags: string;
  runAt: Date | null;
  uniqueKey: string | null;
  /** JSON text or null. */
  trace: string | null;
  /** Discard the job if not started by then. */
  expiresAt: Date | null;
  /** JSON text of the discard hook (see migrations/0007) or null. */
  onDiscard: string | null;
  concurrencyKey: string | null;
  concurrencyLimit: number | null;
}

export interface InsertedRow {
  id: string;
  state: string;
}

/**
 * `checkUnique`: the rows' unique keys are locked and checked first
 * (lock_unique_conflicts, migrations/0011, with $4..$7: per-row rule, the
 * rules' periods and states, the lock prefix); rows that conflict are not
 * inserted and come back in `conflicts` instead, as [row number, id, state,
 * queue, task].
 */
export function insertJobsSql(quotedSchema: string, checkUnique = false): string {
  // The templates are typed once; each row looks its template up in a
  // lateral subquery, so rows stay in input order (the outer side of a
  // nested loop) and so do the ids nextval() gives them.
  return `
with ${checkUnique ? takenCte(quotedSchema) : ""}tpl as materialized (
  select * from rows from (jsonb_to_recordset($1::jsonb)
    as (queue text, task_id text, body_hash text, priority smallint, max_attempts int, timeout_ms int, backoff jsonb,
        meta jsonb, tags jsonb, run_at timestamptz, trace jsonb, expires_at timestamptz, on_discard jsonb, concurrency_key text,
        concurrency_limit int)) with ordinality as t(queue, task_id, body_hash, priority,
        max_attempts, timeout_ms, backoff, meta, tags, run_at, trace, expires_at, on_discard, concurrency_key, concurrency_limit, i)
), ins as (
  insert into ${quotedSchema}.jobs (state, queue, task_id, body_hash, priority, max_attempts, timeout_ms, backoff, captures, meta, tags, run_at,
                                    unique_key, trace, row_key, expires_at, on_discard, concurrency_key, concurrency_limit)
  select case when t.run_at > now() then 'scheduled' else 'available' end,
         t.queue, t.task_id, t.body_hash, t.priority, t.max_attempts, t.timeout_ms, t.backoff, (r.v->>1)::json, t.meta,
         case when t.tags = '[]'::jsonb then '{}'::text[] else array(select jsonb_array_elements_text(t.tags)) end,
         coalesce(t.run_at, now()), r.v->>2, t.trace, (r.v->>3)::uuid, t.expires_at, t.on_discard, t.concurrency_key, t.concurrency_limit
  from jsonb_array_elements($2::jsonb) with ordinality as r(v, n)
       -- offset 0 keeps this a per-row subquery: pulled up into a join, the
       -- planner may hash the rows and emit them out of order.
       cross join lateral (select * from tpl where tpl.i = (r.v->>0)::int + 1 offset 0) as t${checkUnique ? `
  -- A filter on each row, not an anti-join, for the same reason; the array is computed once, before any row is inserted.
  where not (r.n::int = any(array(select n from taken)))` : ""}
  returning id, state, queue, run_at
), notified as (
  -- The insert notice (src/db/notifier.ts): due null wakes nodes now; an
  -- epoch-ms due tells them when the earliest scheduled job is due, so it
  -- starts on time instead of on the next poll.
  select pg_notify($3, json_build_object('queue', d.queue, 'due', d.due)::text) from (
    select queue, case when state = 'scheduled' then (extract(epoch from min(run_at)) * 1000)::bigint end as due
    from ins group by queue, state
  ) d
)
-- One row back, not one per job: the ids in order as an array literal and
-- each job's state as one letter (a = available, s = scheduled).
select array_agg(id order by id)::text as ids,
       string_agg(case when state = 'scheduled' then 's' else 'a' end, '' order by id) as states${checkUnique ? `,
       (select json_agg(json_build_array(n, id::text, state, queue, task_id) order by n) from taken)::text as conflicts` : ""}
from ins where (select count(*) from notified) >= 0`;
}

/** Locks the rows' unique keys and finds the job each conflicts with, in a snapshot taken after the locks (migrations/0011). */
function takenCte(quotedSchema: string): string {
  return `taken as materialized (
  select * from ${quotedSchema}.lock_unique_conflicts(
    array(select r.v->>2 from jsonb_array_elements($2::jsonb) with ordinality as r(v, n) order by r.n), $4::int[], $5::bigint[], $6::text[], $7::text)
), `;
}

const str = (value: string | null) => (value === null ? "null" : JSON.stringify(value));

/** The template part of a row: what a batch's jobs usually share. */
function templateOf(r: JobRow): string {
  return `{"queue":${str(r.queue)},"task_id":${str(r.taskId)},"body_hash":${str(r.bodyHash)},"priority":${r.priority},` +
    `"max_attempts":${r.maxAttempts},"timeout_ms":${r.timeoutMs},"backoff":${r.backoff ?? "null"},"meta":${r.meta},"tags":${r.tags},` +
    `"run_at":${r.runAt ? str(r.runAt.toISOString()) : "null"},"trace":${r.trace ?? "null"}` +
    (r.expiresAt || r.onDiscard || r.concurrencyKey !== null ? semanticsTemplate(r) : "") + "}";
}

/** The fields of migration 0007, written only when a row uses one of them (the common template stays as short as it was). */
function semanticsTemplate(r: JobRow): string {
  return `,"expires_at":${r.expiresAt ? str(r.expiresAt.toISOString()) : "null"},"on_discard":${r.onDiscard ?? "null"},` +
    `"concurrency_key":${str(r.concurrencyKey)},"concurrency_limit":${r.concurrencyLimit ?? "null"}`;
}

function sameTemplate(a: JobRow, b: JobRow): boolean {
  return a.queue === b.queue && a.taskId === b.taskId && a.bodyHash === b.bodyHash && a.priority === b.priority &&
    a.maxAttempts === b.maxAttempts && a.timeoutMs === b.timeoutMs && a.backoff === b.backoff && a.meta === b.meta &&
    a.tags === b.tags && a.trace === b.trace && sameDate(a.runAt, b.runAt) && sameDate(a.expiresAt, b.expiresAt) &&
    a.onDiscard === b.onDiscard && a.concurrencyKey === b.concurrencyKey && a.concurrencyLimit === b.concurrencyLimit;
}

function sameDate(a: Date | null, b: Date | null): boolean {
  return a === b || (a !== null && b !== null && a.getTime() === b.getTime());
}

/** [templates document, rows document]; JSON-text fields are spliced in without re-encoding. */
export function rowsDocuments(rows: JobRow[]): [string, string] {
  const templates = new Map<string, number>();
  const parts: string[] = new Array(rows.length);
  let previous: JobRow | undefined;
  let index = -1;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    // Rows of one bulk call usually differ only in captures: skip building
    // the template text when nothing it holds changed since the last row.
    if (previous === undefined || !sameTemplate(previous, r)) {
      const template = templateOf(r);
      const known = templates.get(template);
      index = known ?? templates.size;
      if (known === undefined) templates.set(template, index);
    }
    previous = r;
    const captures = JSON.stringify(r.captures);
    if (r.rowKey !== null) parts[i] = `[${index},${captures},${str(r.uniqueKey)},${str(r.rowKey)}]`;
    else parts[i] = r.uniqueKey === null ? `[${index},${captures}]` : `[${index},${captures},${str(r.uniqueKey)}]`;
  }
  return [`[${[...templates.keys()].join(",")}]`, `[${parts.join(",")}]`];
}

export function insertParams(rows: JobRow[], channel: string): unknown[] {
  return [...rowsDocuments(rows), channel];
}

/**
 * One job, plain parameters: the common single `durable.async()` call. The
 * JSON path above parses and joins two documents even for one row; this one
 * costs the server about a quarter of that (bench/NOTES.md, "Single enqueue").
 */
export function insertOneSql(quotedSchema: string): string {
  return `
with ins as (
  insert into ${quotedSchema}.jobs (state, queue, task_id, body_hash, priority, max_attempts, timeout_ms, backoff, captures, meta, tags, run_at, unique_key, trace, row_key,
                                    expires_at, on_discard, concurrency_key, concurrency_limit)
  values (case when $10::timestamptz > now() then 'scheduled' else 'available' end, $1, $2, $3, $4, $5, $6, $7::jsonb, $8::json, $9::jsonb,
          case when $11::text = '[]' then '{}'::text[] else array(select jsonb_array_elements_text($11::jsonb)) end,
          coalesce($10::timestamptz, now()), $12, $13::jsonb, $15::uuid, $16::timestamptz, $17::jsonb, $18::text, $19::int)
  returning id, state, queue, run_at
)
select id::text as id, state,
       pg_notify($14, json_build_object('queue', queue, 'due', case when state = 'scheduled' then (extract(epoch from run_at) * 1000)::bigint end)::text)
from ins`;
}

const oneTexts = new Map<string, string>();
const manyTexts = new Map<string, string>();
const checkedTexts = new Map<string, string>();
function cached(texts: Map<string, string>, quotedSchema: string, build: (quotedSchema: string) => string): string {
  let text = texts.get(quotedSchema);
  if (text === undefined) texts.set(quotedSchema, (text = build(quotedSchema)));
  return text;
}

function insertOneParams(r: JobRow, channel: string): unknown[] {
  return [
    r.queue, r.taskId, r.bodyHash, r.priority, r.maxAttempts, r.timeoutMs, r.backoff, r.captures, r.meta, r.runAt, r.tags, r.uniqueKey, r.trace, channel, r.rowKey,
    r.expiresAt, r.onDiscard, r.concurrencyKey, r.concurrencyLimit,
  ];
}

/**
 * Ids come from one sequence in row order, so ascending ids are the input
 * order. `named`: the statements are prepared once per connection (only on
 * the instance's own pool, and not behind a transaction pooler).
 */
export async function insertJobs(client: QueryableClient, quotedSchema: string, rows: JobRow[], channel: string, named = false): Promise<InsertedRow[]> {
  if (rows.length === 1) {
    const text = cached(oneTexts, quotedSchema, insertOneSql);
    const values = insertOneParams(rows[0]!, channel);
    const result = await client.query(named ? { name: `durable-insert-one-${quotedSchema}`, text, values } : { text, values });
    const row = result.rows[0] as { id: string; state: string };
    return [{ id: row.id, state: row.state }];
  }
  const text = cached(manyTexts, quotedSchema, insertJobsSql);
  const values = insertParams(rows, channel);
  const result = await client.query(named ? { name: `durable-insert-${quotedSchema}`, text, values } : { text, values });
  const { ids, states } = result.rows[0] as { ids: string | null; states: string | null };
  if (ids === null || states === null) return [];
  return ids.slice(1, -1).split(",").map((id, i) => ({ id, state: states[i] === "s" ? "scheduled" : "available" }));
}

/**
 * Inserts the rows whose unique key no existing job holds, locking the keys
 * first (one statement: migrations/0011). Rows come in order, and each key at
 * most once (the caller settles repeats within a batch).
 */
export async function insertJobsChecked(
  client: QueryableClient, quotedSchema: string, rows: JobRow[], channel: string, check: UniqueCheck, named = false,
): Promise<CheckedRows> {
  const text = cached(checkedTexts, quotedSchema, (q) => insertJobsSql(q, true));
  const values = [...insertParams(rows, channel), check.rules, check.periodsMs, check.states, check.lockPrefix];
  const result = await client.query(named ? { name: `durable-insert-unique-${quotedSchema}`, text, values } : { text, values });
  const { ids, states, conflicts } = result.rows[0] as { ids: string | null; states: string | null; conflicts: string | null };
  const inserted = ids === null || states === null ? [] : ids.slice(1, -1).split(",").map((id, i) => ({ id, state: states[i] === "s" ? "scheduled" : "available" }));
  const taken = conflicts === null ? [] : (JSON.parse(conflicts) as Array<[number, string, string, string, string]>);
  return { inserted, conflicts: taken.map(([n, id, state, queue, task]) => ({ row: n - 1, id, state, queue, task })) };
}

export function upsertTasksSql(quotedSchema: string): string {
  return `
insert into ${quotedSchema}.tasks (task_id, body_hash, file, fn, line, col, source, capture_names, kind)
select t.task_id, t.body_hash, t.file, t.fn, t.line, t.col, t.source,
       array(select jsonb_array_elements_text(t.captures::jsonb)), t.kind
from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::text[], $9::text[])
     as t(task_id, body_hash, file, fn, line, col, source, captures, kind)
on conflict (task_id, body_hash) do update set last_seen_at = now(), file = excluded.file, fn = excluded.fn, line = excluded.line, col = excluded.col`;
}
