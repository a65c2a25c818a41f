-- Unique inserts in one statement. A unique insert must lock its keys and
-- only then look for a conflicting job, in a snapshot taken after the lock
-- is held: in READ COMMITTED a statement's snapshot is taken when it starts,
-- so a check in the same statement as the lock would miss the job the
-- previous holder of the lock committed meanwhile. That used to cost a
-- transaction of four statements (lock, check, insert, commit). A VOLATILE
-- function takes a fresh snapshot for each statement it runs, so the lock
-- and the check can live here and run inside the insert statement itself
-- (src/enqueue/queries.ts); the locks are transaction-scoped, so they last
-- until that statement's transaction commits the new rows.
--
-- keys and rules are per candidate row (null key: no uniqueness); rules
-- index periods (ms, null = forever) and states (comma-separated). The lock
-- of a key is the one earlier versions took: hashtextextended(lock_prefix
-- || key), keys locked in byte order, so concurrent batches never deadlock,
-- also against processes of an older build during a deploy.
create function :SCHEMA.lock_unique_conflicts(p_keys text[], p_rules int[], p_periods bigint[], p_states text[], p_lock_prefix text)
returns table (n int, id bigint, state text, queue text, task_id text)
language plpgsql volatile
as $$
#variable_conflict use_column
begin
  perform count(pg_advisory_xact_lock(hashtextextended(p_lock_prefix || s.k, 0)))
  from (select distinct u.k collate "C" as k from unnest(p_keys) as u(k) where u.k is not null order by 1) as s;
  -- A new statement: a new snapshot, which sees what the previous holders of these locks committed.
  -- Planned at each call, as a statement of the client's would be: a plan cached in the session, made
  -- while jobs_finished was empty, could go on scanning it whole for every key once it has grown.
  return query execute $q$
  select r.n::int, e.id, e.state, e.queue, e.task_id
  from unnest($1::text[], $2::int[]) with ordinality as r(key, rule, n)
  cross join lateral (
    select j.id, j.state, j.queue, j.task_id from :SCHEMA.jobs j
    where j.unique_key = r.key
      and (($3::bigint[])[r.rule] is null or j.inserted_at > clock_timestamp() - ($3::bigint[])[r.rule] * interval '1 millisecond')
      and j.state = any(string_to_array(($4::text[])[r.rule], ','))
    order by j.inserted_at desc, j.id desc
    limit 1
  ) as e
  where r.key is not null$q$
  using p_keys, p_rules, p_periods, p_states;
end
$$;
