-- durable-async schema, version 1. ":SCHEMA" is replaced by the validated,
-- quoted schema name before this file runs. Never edit a landed migration:
-- add a new numbered file instead.

-- One row per (task id, body hash): the caller location and source live here
-- once, not in every job row.
create table :SCHEMA.tasks (
  task_id        text not null,
  body_hash      text not null,
  file           text not null,
  fn             text,
  line           integer not null,
  col            integer not null,
  source         text not null,
  capture_names  text[] not null default '{}',
  kind           text not null default 'async',
  first_seen_at  timestamptz not null default now(),
  last_seen_at   timestamptz not null default now(),
  primary key (task_id, body_hash)
);

create sequence :SCHEMA.jobs_id_seq as bigint;

-- Jobs are LIST-partitioned by state. Finished jobs (kept for days, for
-- reports) live in jobs_finished; the fetch path only ever touches
-- jobs_active, so a million retained jobs and their dead index entries never
-- slow a SKIP LOCKED claim. Moving a job to a final state is a cross-partition
-- UPDATE (a delete + insert under the hood), which is what we want: the active
-- partition stays small and autovacuum keeps it clean quickly.
create table :SCHEMA.jobs (
  id             bigint not null default nextval(':SCHEMA.jobs_id_seq'),
  state          text not null,
  queue          text not null,
  task_id        text not null,
  body_hash      text not null,
  priority       smallint not null default 0,
  attempt        integer not null default 0,
  max_attempts   integer not null,
  timeout_ms     integer not null,
  backoff        jsonb,
  captures       jsonb not null,
  meta           jsonb not null default '{}',
  tags           text[] not null default '{}',
  result         jsonb,
  errors         jsonb not null default '[]',
  progress       jsonb,
  trace          jsonb,
  unique_key     text,
  node_id        text,
  run_at         timestamptz not null default now(),
  inserted_at    timestamptz not null default now(),
  attempted_at   timestamptz,
  completed_at   timestamptz,
  discarded_at   timestamptz,
  cancelled_at   timestamptz,
  finished_at    timestamptz,
  constraint jobs_state_check check (state in ('available','scheduled','executing','retryable','completed','discarded','cancelled')),
  constraint jobs_priority_check check (priority between 0 and 9),
  constraint jobs_attempts_check check (max_attempts >= 1 and attempt >= 0),
  primary key (id, state)
) partition by list (state);

create table :SCHEMA.jobs_active partition of :SCHEMA.jobs
  for values in ('available','scheduled','executing','retryable');
create table :SCHEMA.jobs_finished partition of :SCHEMA.jobs
  for values in ('completed','discarded','cancelled');

-- The active partition churns constantly; vacuum it eagerly so dead tuples
-- left by claims and completions are reclaimed in seconds, not minutes.
alter table :SCHEMA.jobs_active set (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 500,
                                     autovacuum_analyze_scale_factor = 0.02, fillfactor = 90);

-- Fetch: "next due jobs of queue Q by priority, then due time". Partial, so
-- executing rows are not in it, and only on the active partition.
create index jobs_active_fetch_idx on :SCHEMA.jobs_active (queue, priority, run_at, id)
  where state in ('available','scheduled','retryable');
-- Rescue: executing jobs held by a node whose lease expired.
create index jobs_active_node_idx on :SCHEMA.jobs_active (node_id) where state = 'executing';
-- Uniqueness: "is there a job with this key inserted within the window?".
create index jobs_unique_idx on :SCHEMA.jobs (unique_key, inserted_at) where unique_key is not null;
-- Pruning: finished jobs of a state older than its retention, oldest first.
create index jobs_finished_prune_idx on :SCHEMA.jobs_finished (state, finished_at);
-- Reports: by task and time, by queue and time, and meta containment.
create index jobs_finished_task_idx on :SCHEMA.jobs_finished (task_id, finished_at);
create index jobs_finished_queue_idx on :SCHEMA.jobs_finished (queue, finished_at);
create index jobs_finished_meta_idx on :SCHEMA.jobs_finished using gin (meta jsonb_path_ops);
-- Lookup by id alone (await, dashboard) uses the primary key (id, state) on
-- each partition. No meta index on the active partition: every claim is a
-- non-HOT update that would rewrite it, and the partition is small.

-- Nodes: one row per running process, kept alive by a heartbeat. A node
-- whose lease expired is dead; its executing jobs are rescued.
create table :SCHEMA.nodes (
  node_id           text primary key,
  node_types        text[] not null,
  queues            jsonb not null default '{}',
  task_ids          text[] not null default '{}',
  hostname          text not null,
  pid               integer not null,
  started_at        timestamptz not null default now(),
  heartbeat_at      timestamptz not null default now(),
  lease_expires_at  timestamptz not null
);

-- Persisted queue control: every node reads it, so a pause reaches all nodes
-- and nodes that start later.
create table :SCHEMA.queues (
  name                  text primary key,
  paused                boolean not null default false,
  paused_until          timestamptz,
  concurrency           integer check (concurrency is null or concurrency >= 0),
  global_concurrency    integer check (global_concurrency is null or global_concurrency >= 1),
  rate_limit_allowed    integer check (rate_limit_allowed is null or rate_limit_allowed >= 1),
  rate_limit_period_ms  integer check (rate_limit_period_ms is null or rate_limit_period_ms >= 1),
  retention             jsonb,
  updated_at            timestamptz not null default now()
);

-- Cron: one row per (entry, tick) makes "at most one job per tick across all
-- nodes" a primary-key conflict, with no leader.
create table :SCHEMA.cron_ticks (
  name         text not null,
  tick         timestamptz not null,
  job_id       bigint,
  inserted_at  timestamptz not null default now(),
  primary key (name, tick)
);

-- Rate limits: one row per attempt started in a rate-limited queue, written by
-- the limited claim and trimmed to the queue's window by the next one. Every
-- attempt counts (a retry too), and queues without a rate limit pay nothing.
create table :SCHEMA.rate_limit_starts (
  queue       text not null,
  started_at  timestamptz not null,
  job_id      bigint not null
);
create index rate_limit_starts_idx on :SCHEMA.rate_limit_starts (queue, started_at);
