-- Schedules created at run time (durable.schedules.add): besides the entries
-- declared in code, a cron entry can be added and removed from the API. Its
-- job is recorded once, like a discard hook's (migration 0007): { task_id,
-- body_hash, queue, priority, max_attempts, timeout_ms, backoff, meta, tags,
-- captures, row_key } with captures as a JSON string of their exact text,
-- sealed for row_key when encryption is on. Each won tick inserts a copy with
-- that same row key, so every copy opens on the worker.
alter table :SCHEMA.cron_entries
  add column origin text not null default 'code' check (origin in ('code', 'api')),
  add column job jsonb;
