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
on conflict (name) do update set expression = excluded.expression, tz = excluded.tz, task_id = excluded.task_id, declared_at = now()`;

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
select e.name, e.expression, e.override_expression, e.tz, e.paused, e.task_id, e.next_run_at, e.declared_at, e.updated_at,
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
