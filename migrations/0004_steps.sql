-- Durable steps. A job that awaits unfinished work suspends: its row moves to
-- the 'waiting' state, which names the jobs it waits for (waiting_for), holds
-- no slot and is never claimed; it becomes 'available' again when they end.
-- 'waiting' is an unfinished state, so it joins the jobs_active partition
-- (list bounds cannot be altered in place: detach, widen, attach). The fetch
-- index stays partial on the claimable states, so waiting rows never slow a
-- claim.
alter table :SCHEMA.jobs detach partition :SCHEMA.jobs_active;
alter table :SCHEMA.jobs drop constraint jobs_state_check;
alter table :SCHEMA.jobs_active drop constraint jobs_state_check;
alter table :SCHEMA.jobs add constraint jobs_state_check
  check (state in ('available','scheduled','executing','retryable','waiting','completed','discarded','cancelled'));
alter table :SCHEMA.jobs_active add constraint jobs_state_check
  check (state in ('available','scheduled','executing','retryable','waiting','completed','discarded','cancelled'));
alter table :SCHEMA.jobs attach partition :SCHEMA.jobs_active
  for values in ('available','scheduled','executing','retryable','waiting');

alter table :SCHEMA.jobs add column waiting_for bigint[];
-- "Which waiting jobs wait for one of the jobs that just ended?" (the
-- completer's wake-up), and the periodic sweep over waiting jobs.
create index jobs_active_waiting_for_idx on :SCHEMA.jobs_active using gin (waiting_for) where state = 'waiting';
create index jobs_active_waiting_idx on :SCHEMA.jobs_active (id) where state = 'waiting';

-- The journal: one row per step a job's executions reached, keyed by the
-- step's key (the stub id and its occurrence in one execution, e.g.
-- "src/a.ts#onboard#0>1#0"), so any later execution (retry, resume,
-- rescue) finds the child it created or the value it recorded instead of
-- doing the work again. A child's outcome lives in its own job row; an
-- inline step's value, a timer's due time, here. A replay reads a job's
-- whole journal in one query.
create table :SCHEMA.steps (
  parent_id   bigint not null,
  step_key    text not null,
  position    integer not null,
  kind        text not null check (kind in ('async','run','step','sleep','after')),
  task_id     text not null,
  caller      text,
  child_id    bigint,
  value       json,
  wake_at     timestamptz,
  created_at  timestamptz not null default now(),
  primary key (parent_id, step_key)
);
-- A job's parent (visibility, the cancel cascade goes the other way by parent_id).
create index steps_child_idx on :SCHEMA.steps (child_id) where child_id is not null;
