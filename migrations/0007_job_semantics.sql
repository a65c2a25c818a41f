-- Job semantics, second round: deadlines, a hook on discard, per-key
-- concurrency, partitioned rate limits, queues and schedules changed at run
-- time. New columns have no default, so adding them to the jobs table is a
-- catalog change only (no rewrite).

-- Deadlines: a job not started by expires_at is discarded, never run late.
-- The claim skips such rows; the sweep finds them through this small index.
alter table :SCHEMA.jobs add column expires_at timestamptz;
create index jobs_active_expires_idx on :SCHEMA.jobs_active (expires_at)
  where expires_at is not null and state in ('available','scheduled','retryable');

-- Discard hook: the job to insert when this one is discarded, written at
-- enqueue time ({ task_id, body_hash, queue, priority, max_attempts,
-- timeout_ms, backoff, meta, tags, captures, row_key } with captures as a
-- JSON *string* holding their exact text, as the insert path carries them,
-- sealed for row_key when encryption is on).
alter table :SCHEMA.jobs add column on_discard jsonb;

-- Every path that discards a job (a failed last attempt, a rescue of the last
-- attempt, an unknown task, a deadline) moves the row into jobs_finished, so
-- one trigger there inserts the hook job in the same transaction: it exists
-- if and only if the discard committed.
create function :SCHEMA.insert_discard_hook() returns trigger language plpgsql as $$
declare
  h jsonb := new.on_discard;
  reason text := coalesce(new.errors->-1->>'message', 'discarded');
begin
  insert into :SCHEMA.jobs (state, queue, task_id, body_hash, priority, max_attempts, timeout_ms, backoff, captures, row_key, meta, tags)
  values ('available', h->>'queue', h->>'task_id', h->>'body_hash', (h->>'priority')::smallint, (h->>'max_attempts')::int,
          (h->>'timeout_ms')::int, nullif(h->'backoff', 'null'::jsonb), (h->>'captures')::json, (h->>'row_key')::uuid,
          coalesce(h->'meta', '{}'::jsonb) || jsonb_build_object('discardedJobId', new.id::text, 'discardedTask', new.task_id, 'discardReason', left(reason, 2000)),
          array(select jsonb_array_elements_text(coalesce(h->'tags', '[]'::jsonb))));
  perform pg_notify(TG_TABLE_SCHEMA || '.insert', json_build_object('queue', h->>'queue', 'due', null)::text);
  return null;
end $$;
create trigger jobs_discard_hook after insert on :SCHEMA.jobs_finished
  for each row when (new.state = 'discarded' and new.on_discard is not null)
  execute function :SCHEMA.insert_discard_hook();

-- Per-key concurrency: at most concurrency_limit jobs with one key execute
-- at once across all nodes. Jobs without a key (most) never touch these
-- indexes: both are partial on the key.
alter table :SCHEMA.jobs add column concurrency_key text, add column concurrency_limit integer;
create index jobs_active_key_due_idx on :SCHEMA.jobs_active (queue, concurrency_key, priority, run_at, id)
  where concurrency_key is not null and state in ('available','scheduled','retryable');
create index jobs_active_key_running_idx on :SCHEMA.jobs_active (concurrency_key)
  where concurrency_key is not null and state = 'executing';

-- Partitioned rate limits: the queue's window is counted per value of a
-- meta path (rate_limit_by, e.g. "accountId" for meta.accountId).
alter table :SCHEMA.queues add column rate_limit_by text;
alter table :SCHEMA.rate_limit_starts add column rate_key text;
create index rate_limit_starts_key_idx on :SCHEMA.rate_limit_starts (queue, rate_key, started_at) where rate_key is not null;

-- Queues at run time: a queue added with durable.queues.add() runs on every
-- node of node_type (concurrency is the per-node setting scale() writes).
alter table :SCHEMA.queues add column node_type text;

-- Schedules at run time: one row per cron entry, declared in code (nodes
-- write expression and tz on start) and changed from the API, CLI or
-- dashboard (paused, override_expression). next_run_at is what nodes armed.
create table :SCHEMA.cron_entries (
  name                 text primary key,
  expression           text not null,
  tz                   text not null default 'UTC',
  override_expression  text,
  paused               boolean not null default false,
  task_id              text,
  next_run_at          timestamptz,
  declared_at          timestamptz not null default now(),
  updated_at           timestamptz not null default now()
);
