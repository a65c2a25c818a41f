-- Rolling deploys: claims that read only work the node can run, nodes that
-- say which build they run and what it can run, and builds an operator
-- drains before stopping them.

-- The claim reads one bounded head per (task id, body hash) the node can run
-- (src/runner/queries.ts), so due jobs of tasks it lacks, or of body hashes
-- it may not run, are never read, however many sit ahead of its own. It
-- replaces the queue-led fetch index: one index on the active partition to
-- maintain per insert and claim, as before.
drop index if exists :SCHEMA.jobs_active_fetch_idx;
create index jobs_active_claim_idx on :SCHEMA.jobs_active (queue, task_id, body_hash, priority, run_at, id)
  where state in ('available','scheduled','retryable');

-- build_id: the manifest hash of the node's tasks, or its explicit `version`.
-- task_keys: every "task_id:body_hash" the node claims (its own versions and
-- the recorded ones its body-hash policy accepts), so "can a live node run
-- this job?" is one array test. draining: its build was drained; it claims
-- nothing new and does not count as able to run anything.
alter table :SCHEMA.nodes
  add column build_id text,
  add column task_keys text[] not null default '{}',
  add column draining boolean not null default false;

-- A drained build stays drained for nodes of it that start later, until undrained.
create table :SCHEMA.drained_builds (
  build_id    text primary key,
  drained_at  timestamptz not null default now()
);
