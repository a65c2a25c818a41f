// SQL of cron. The (name, tick) primary key is the whole coordination: the
// node whose insert wins enqueues the job in the same transaction, everyone
// else conflicts and does nothing. No leader, no clock agreement needed.

export const claimTick = (q: string) => `
insert into ${q}.cron_ticks (name, tick) values ($1, $2) on conflict do nothing`;

/** Catch-up only for entries that ran before: a brand-new entry has no missed tick. */
export const claimMissedTick = (q: string) => `
insert into ${q}.cron_ticks (name, tick)
select $1, $2 where exists (select 1 from ${q}.cron_ticks where name = $1)
on conflict do nothing`;

export const recordTickJob = (q: string) => `
update ${q}.cron_ticks set job_id = $3 where name = $1 and tick = $2`;

export const lastTick = (q: string) => `
select max(tick) as tick from ${q}.cron_ticks where name = $1`;
