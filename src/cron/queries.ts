// SQL of cron. The (name, tick) primary key is the whole coordination: the
// node whose insert wins enqueues the job in the same transaction, everyone
// else conflicts and does nothing. No leader, no clock agreement needed.

export const claimTick = (quotedSchema: string) => `
insert into ${quotedSchema}.cron_ticks (name, tick) values ($1, $2) on conflict do nothing`;

/** Catch-up only for entries that ran before: a brand-new entry has no missed tick. */
export const claimMissedTick = (quotedSchema: string) => `
insert into ${quotedSchema}.cron_ticks (name, tick)
select $1, $2 where exists (select 1 from ${quotedSchema}.cron_ticks where name = $1)
on conflict do nothing`;

export const recordTickJob = (quotedSchema: string) => `
update ${quotedSchema}.cron_ticks set job_id = $3 where name = $1 and tick = $2`;

export const lastTick = (quotedSchema: string) => `
select max(tick) as tick from ${quotedSchema}.cron_ticks where name = $1`;
