import type { testDatabase } from "./db.js";
import * as tasks from "./dashboard-tasks.mjs";

// Rows no runtime code path writes, but that their column types allow: a
// bug, a manual UPDATE or an older version might leave them. The dashboard,
// the CLI and the reports must show them (marked), never fail on them.

type Db = Awaited<ReturnType<typeof testDatabase>>;

const HUGE = "x".repeat(2_000_000);

/** Each entry: column overrides (SQL expressions) for one job row. */
export const hostileJobs: Array<Record<string, string>> = [
  { errors: `'{"not": "an array"}'` },
  { errors: `'5'` },
  { errors: `'"just text"'` },
  { errors: `'[1, "x", null, [], {"message": {"code": 42}, "at": "not a date", "attempt": "three", "stack": 5, "name": {"n": 1}, "code": [1]}]'` },
  { errors: `'[{"message": "ok", "at": "294276-01-01T00:00:00Z", "attempt": 1e308}]'`, state: `'discarded'`, finished_at: `now()`, discarded_at: `now()` },
  { run_at: `'infinity'`, state: `'scheduled'` },
  { run_at: `'-infinity'`, inserted_at: `'-infinity'`, state: `'retryable'` },
  { inserted_at: `'infinity'`, attempted_at: `'infinity'`, state: `'executing'`, node_id: `'<b>node</b>'` },
  { state: `'completed'`, completed_at: `'infinity'`, finished_at: `'infinity'`, result: `'{"json": {"v": 1}, "meta": 5}'` },
  { state: `'cancelled'`, cancelled_at: `'-infinity'`, finished_at: `now()`, errors: `'[{"message": null}]'` },
  { meta: `jsonb_build_object('huge', '${HUGE}')` },
  { meta: `'[1, 2, 3]'` },
  { meta: `'"a string"'` },
  { meta: `'12'` },
  { meta: `'{"deep": ${"[".repeat(200)}1${"]".repeat(200)}}'` },
  { progress: `'"half"'` },
  { progress: `'{"fraction": "x", "done": {"a": 1}, "total": "y", "message": {"m": 1}}'` },
  { progress: `'{"fraction": 1e308, "done": -5, "total": 0}'` },
  { progress: `'[0.5]'` },
  { progress: `'{"done": 3, "total": 4, "message": "${"m".repeat(100_000)}"}'` },
  { captures: `'null'` },
  { captures: `'{"enc": "v1", "kid": {"x": 1}}'` },
  { captures: `'{"enc": "v2", "kid": 5, "iv": [], "tag": null, "ct": {}}'` },
  { result: `'[1, {"json": 2}]'`, state: `'completed'`, finished_at: `now()`, completed_at: `now()` },
  { trace: `'"garbage"'`, backoff: `'{"type": 5}'` },
  { tags: `array['<script>', '', repeat('t', 10000)]` },
  { task_id: `'<img src=x onerror=alert(1)>' || repeat('t', 5000)`, body_hash: `''` },
  { priority: `9`, attempt: `2147483647`, max_attempts: `2147483647`, timeout_ms: `-1` },
];

export async function insertHostile(db: Db): Promise<string[]> {
  const ids: string[] = [];
  for (const overrides of hostileJobs) {
    const row: Record<string, string> = {
      state: `'available'`, queue: `'ad_hoc_worker'`, task_id: `'${tasks.sendWelcomeEmail.id}'`, body_hash: `'h'`, max_attempts: `3`, timeout_ms: `1000`,
      captures: `'{"json": {}}'`, ...overrides,
    };
    const columns = Object.keys(row);
    const { rows } = await db.pool.query(`insert into ${db.q}.jobs (${columns.join(", ")}) values (${columns.map((c) => row[c]).join(", ")}) returning id::text`);
    ids.push(rows[0].id);
  }
  return ids;
}

export async function insertHostileNeighbours(db: Db): Promise<void> {
  const q = db.q;
  await db.pool.query(`insert into ${q}.nodes (node_id, node_types, queues, task_ids, hostname, pid, started_at, heartbeat_at, lease_expires_at) values
    ('n-inf', '{}', '"not an object"', '{}', '<h1>host</h1>', -1, 'infinity', 'infinity', 'infinity'),
    ('n-neg', array['worker', ''], '{"ad_hoc_worker": "ten", "x": {"y": 1}}', array[repeat('t', 3000)], '', 2147483647, '-infinity', '-infinity', '-infinity'),
    ('n-arr', array['api'], '[1, 2]', '{}', 'h', 1, now(), now(), now() + interval '1 hour')`);
  await db.pool.query(`insert into ${q}.tasks (task_id, body_hash, file, fn, line, col, source, capture_names, kind, first_seen_at, last_seen_at) values
    ('t-inf', 'h', '<b>file</b>', null, -1, -2147483648, '${"s".repeat(300_000)}', array['', '<i>'], 'weird', 'infinity', 'infinity'),
    ('t-neg', 'h2', '', '', 0, 0, '', '{}', '', '-infinity', '-infinity')`);
  await db.pool.query(`insert into ${q}.queues (name, paused, paused_until, concurrency, global_concurrency, rate_limit_allowed, rate_limit_period_ms, retention) values
    ('q-inf', true, 'infinity', 0, 1, 1, 1, '"garbage"'),
    ('q-neg', true, '-infinity', null, null, 2147483647, 2147483647, '{"completed": "x", "discarded": -5}')`);
  await db.pool.query(`insert into ${q}.cron_ticks (name, tick, job_id) values ('c', 'infinity', -1)`);
}

