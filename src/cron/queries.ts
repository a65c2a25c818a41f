// SQL of cron. The (name, tick) primary key is the whole coordination: the
// node whose insert wins enqueues the job in the same transaction, everyone
// else conflicts and does nothing. No leader, no clock agreement needed.

/** Catch-up only for entries that ran before: a brand-new entry has no missed tick. */
export const claimMissedTick = (quotedSchema: string) => `
insert into ${quotedSchema}.cron_ticks (name, tick)
select $1, $2 where exists (select 1 from ${quotedSchema}.cron_ticks where name = $1)
on conflict do nothing`;

export const recordTickJob = (quotedSchema: string) => `
update ${quotedSchema}.cron_ticks set job_id = $3 where name = $1 and tick = $2`;

export const lastTick = (quotedSchema: string) => `
select max(tick) as tick from ${quotedSchema}.cron_ticks where name = $1`;

// Schedules at run time: cron_entries holds every declared entry (written by
// the nodes that evaluate it) and what the API changed (paused, a new
// expression). The tick's claim re-checks both in the same statement, so a
// node that has not re-read yet neither fires a paused entry nor fires on
// an expression that was changed: its insert simply does not happen.

/** A node declares its entries: expression, tz and task from code; paused and override stay as the API left them. */
export const declareEntries = (quotedSchema: string) => `
insert into ${quotedSchema}.cron_entries (name, expression, tz, task_id)
select * from unnest($1::text[], $2::text[], $3::text[], $4::text[])
on conflict (name) do update set expression = excluded.expression, tz = excluded.tz, task_id = excluded.task_id, declared_at = now(),
  origin = 'code', job = null`;

/** What the API changed for these entries. */
export const entryOverrides = (quotedSchema: string) => `
select name, paused, override_expression from ${quotedSchema}.cron_entries where name = any($1::text[])`;

/** claimTick, only while the entry is not paused and $3 is still its expression. */
export const claimLiveTick = (quotedSchema: string) => `
insert into ${quotedSchema}.cron_ticks (name, tick)
select $1, $2
where not exists (select 1 from ${quotedSchema}.cron_entries e where e.name = $1 and (e.paused or coalesce(e.override_expression, e.expression) <> $3))
on conflict do nothing`;

/** The next run a node armed, shown by list(). */
export const recordNextRun = (quotedSchema: string) => `
update ${quotedSchema}.cron_entries set next_run_at = $2 where name = $1 and next_run_at is distinct from $2`;

export const listEntries = (quotedSchema: string) => `
select e.name, e.origin, e.expression, e.override_expression, e.tz, e.paused, e.task_id, e.next_run_at, e.declared_at, e.updated_at,
       (select max(t.tick) from ${quotedSchema}.cron_ticks t where t.name = e.name) as last_tick
from ${quotedSchema}.cron_entries e order by e.name`;

/** pause/resume/retime: $2 which change ('pause', 'resume', 'retime'), $3 the expression (null: back to the declared one), $4 the next run; notifies the control channel ($5). */
export const changeEntry = (quotedSchema: string) => `
with up as (
  update ${quotedSchema}.cron_entries set
    paused = case $2 when 'pause' then true when 'resume' then false else paused end,
    override_expression = case when $2 = 'retime' then $3 else override_expression end,
    next_run_at = case when $2 = 'retime' or $2 = 'resume' then $4::timestamptz else next_run_at end,
    updated_at = now()
  where name = $1
  returning name, expression, tz
), notified as (select pg_notify($5, 'cron:' || name) from up)
select name, expression, tz from up where (select count(*) from notified) >= 0`;

// Entries added at run time (origin 'api', migrations/0008): every node that
// runs jobs arms them from these rows; a won tick copies the recorded job.

/** Entries added from the API, with what pause/retime changed. */
export const apiEntries = (quotedSchema: string) => `
select name, expression, override_expression, tz, paused, task_id from ${quotedSchema}.cron_entries where origin = 'api'`;

/** claimLiveTick for an added entry: it must also still exist (remove() deletes the row). */
export const claimApiTick = (quotedSchema: string) => `
insert into ${quotedSchema}.cron_ticks (name, tick)
select $1, $2
where exists (select 1 from ${quotedSchema}.cron_entries e where e.name = $1 and e.origin = 'api' and not e.paused and coalesce(e.override_expression, e.expression) = $3)
on conflict do nothing`;

/** The recorded job of an added entry, inserted as is (captures and row key copied); notifies the insert channel ($2). */
export const insertRecordedJob = (quotedSchema: string) => `
with e as (select job as h from ${quotedSchema}.cron_entries where name = $1 and origin = 'api' and job is not null),
ins as (
  insert into ${quotedSchema}.jobs (state, queue, task_id, body_hash, priority, max_attempts, timeout_ms, backoff, captures, row_key, meta, tags)
  select 'available', h->>'queue', h->>'task_id', h->>'body_hash', (h->>'priority')::smallint, (h->>'max_attempts')::int,
         (h->>'timeout_ms')::int, nullif(h->'backoff', 'null'::jsonb), (h->>'captures')::json, (h->>'row_key')::uuid,
         coalesce(h->'meta', '{}'::jsonb), array(select jsonb_array_elements_text(coalesce(h->'tags', '[]'::jsonb)))
  from e
  returning id, queue
), notified as (select pg_notify($2, json_build_object('queue', queue, 'due', null)::text) from ins)
select id::text as id, queue from ins where (select count(*) from notified) >= 0`;

/** add(): creates or replaces an added entry; a code entry of that name is left alone (no row returned). Notifies $6. */
export const upsertApiEntry = (quotedSchema: string) => `
with up as (
  insert into ${quotedSchema}.cron_entries as c (name, expression, tz, task_id, job, origin, next_run_at)
  values ($1, $2, $3, $4, $5::jsonb, 'api', $7)
  on conflict (name) do update set expression = excluded.expression, tz = excluded.tz, task_id = excluded.task_id, job = excluded.job,
    override_expression = null, paused = false, next_run_at = excluded.next_run_at, updated_at = now()
  where c.origin = 'api'
  returning name
), notified as (select pg_notify($6, 'cron:' || name) from up)
select name from up where (select count(*) from notified) >= 0`;

/** remove(): only an added entry, with its ticks; returns the origin of what exists otherwise. Notifies $2. */
export const deleteApiEntry = (quotedSchema: string) => `
with del as (delete from ${quotedSchema}.cron_entries where name = $1 and origin = 'api' returning name),
ticks as (delete from ${quotedSchema}.cron_ticks where name in (select name from del)),
notified as (select pg_notify($2, 'cron:' || name) from del)
select (select count(*) from del)::int as deleted, (select origin from ${quotedSchema}.cron_entries where name = $1) as origin
where (select count(*) from notified) >= 0`;
