import { deleteJournals } from "../steps/queries.js";

// SQL of pruning. Each statement deletes one bounded batch, oldest first,
// through the (state, finished_at) or (queue, finished_at) index, and skips
// rows another node is deleting, so every node can prune at once. A pruned
// job's journal (durable steps) goes with it; the count is of jobs.

export const queueRetentions = (quotedSchema: string) => `
select name, retention from ${quotedSchema}.queues where retention is not null and retention <> '{}'::jsonb`;

/** Default retention for state $1: every queue except those with their own ($3). */
export const pruneDefault = (quotedSchema: string) => `
with doomed as (
  select id, state from ${quotedSchema}.jobs_finished
  where state = $1 and finished_at < now() - $2::bigint * interval '1 millisecond' and not (queue = any($3::text[]))
  order by finished_at
  limit $4
  for update skip locked
), gone as (
  delete from ${quotedSchema}.jobs_finished j using doomed d where j.id = d.id and j.state = d.state returning j.id
), ${deleteJournals(quotedSchema)}
select 1 from gone`;

/** A queue's own retention for state $1. */
export const pruneQueue = (quotedSchema: string) => `
with doomed as (
  select id, state from ${quotedSchema}.jobs_finished
  where queue = $3 and finished_at < now() - $2::bigint * interval '1 millisecond' and state = $1
  order by finished_at
  limit $4
  for update skip locked
), gone as (
  delete from ${quotedSchema}.jobs_finished j using doomed d where j.id = d.id and j.state = d.state returning j.id
), ${deleteJournals(quotedSchema)}
select 1 from gone`;

/** Cron ticks are only needed to dedupe recent ticks and to know an entry ran before; keep each entry's latest. */
export const pruneCronTicks = (quotedSchema: string) => `
delete from ${quotedSchema}.cron_ticks t
where t.inserted_at < now() - interval '7 days'
  and t.tick < (select max(l.tick) from ${quotedSchema}.cron_ticks l where l.name = t.name)`;
