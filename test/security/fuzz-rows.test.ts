import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";

// Random garbage in every column of job rows, and of the tasks and nodes
// tables, written straight into the database while ordinary jobs flow on
// the same worker: every ordinary job completes, no statement of the
// worker's fails because of what it read (no node:error), and the worker
// stops within its grace period. Seeded, so a failure can be replayed.

type Db = Awaited<ReturnType<typeof testDatabase>>;

function prng(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

class Garbage {
  constructor(private readonly random: () => number) {}

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  /** Text Postgres' text type holds: anything but NUL and lone surrogates. */
  text(): string {
    return this.pick(["", "x", "ad_hoc_worker", "test#add", "h-test#add", "'; drop table jobs; --", "😀", "\u0001\u001f", "\uffff", "a,b{c}\"d\\e", "x".repeat(this.int(0, 3000)), "__proto__", "constructor"]);
  }

  textArray(): string[] {
    return Array.from({ length: this.int(0, 4) }, () => this.text());
  }

  /** A JSON value jsonb accepts (its strings hold no NUL or lone surrogate). */
  json(depth = 0): unknown {
    const r = this.random();
    if (depth > 3 || r < 0.4) return this.pick([null, true, false, 0, -1, 1e308, -0.5, 2 ** 53 + 1, this.text(), "2020-01-01T00:00:00Z"]);
    if (r < 0.6) return Array.from({ length: this.int(0, 4) }, () => this.json(depth + 1));
    const out: Record<string, unknown> = {};
    for (let i = this.int(0, 4); i > 0; i--) out[this.pick(["json", "meta", "values", "traceparent", "type", "baseMs", "message", "done", "total", "a", "b", this.text()])] = this.json(depth + 1);
    return out;
  }

  /** JSON text the json column accepts: jsonb's values, plus \u0000 and lone-surrogate escapes, deep nesting, superjson look-alikes. */
  jsonText(): string {
    switch (this.int(0, 5)) {
      case 0: return `{"json": {"a": "x\\u0000", "b": "\\ud83d", "c": "\\ude00"}}`;
      case 1: {
        const depth = this.int(1, 2_000);
        return `{"json": {"v": ${"[".repeat(depth)}1${"]".repeat(depth)}}}`;
      }
      case 2: return JSON.stringify({ json: this.json(), meta: { values: { [this.pick(["a", "json", "0", "a.b"])]: [this.pick(["Date", "map", "set", "bigint", "class", "custom", "number"])] } } });
      case 3: return JSON.stringify({ json: { a: 1, b: 2 }, meta: this.json() });
      default: return JSON.stringify(this.json());
    }
  }

  timestamp(): string {
    return this.pick(["-infinity", "infinity", "1970-01-01T00:00:00Z", "4713-01-01 00:00:00 BC", "294276-12-31T00:00:00Z", new Date(Date.now() + this.int(-1e9, 1e9)).toISOString()]);
  }
}

const NODES = (q: string) => `insert into ${q}.nodes (node_id, node_types, queues, task_ids, hostname, pid, started_at, heartbeat_at, lease_expires_at)
  values ($1, $2::text[], $3::jsonb, $4::text[], $5, $6, $7::timestamptz, $8::timestamptz, $9::timestamptz) on conflict do nothing`;

const TASKS = (q: string) => `insert into ${q}.tasks (task_id, body_hash, file, fn, line, col, source, capture_names, kind, first_seen_at, last_seen_at)
  values ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10::timestamptz, $11::timestamptz) on conflict do nothing`;

const JOBS = (q: string) => `insert into ${q}.jobs (state, queue, task_id, body_hash, priority, attempt, max_attempts, timeout_ms, backoff, captures,
  meta, tags, result, errors, progress, trace, unique_key, node_id, run_at, inserted_at, attempted_at, row_key)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::json, $11::jsonb, $12::text[], $13::json, $14::jsonb, $15::jsonb, $16::jsonb, $17, $18,
          $19::timestamptz, $20::timestamptz, $21::timestamptz, $22::uuid)`;

async function insertGarbage(db: Db, g: Garbage, nodeId: string, count: number): Promise<void> {
  const j = (value: unknown) => JSON.stringify(value);
  for (let i = 0; i < count; i++) {
    const node = g.pick([nodeId, "gone", g.text(), null]);
    await db.pool.query(JOBS(db.q), [
      g.pick(["available", "scheduled", "retryable", "executing", "available", "completed", "discarded", "cancelled"]), g.pick(["ad_hoc_worker", "ad_hoc_worker", g.text()]),
      g.pick(["test#add", "test#echo", "test#sleep", g.text()]), g.pick(["h-test#add", "h-test#echo", "h-test#sleep", g.text()]),
      g.int(0, 9), g.pick([0, 1, 2, 2_147_483_647, g.int(0, 100)]), g.pick([1, 2, 2_147_483_647, g.int(1, 50)]),
      g.pick([-1, 0, 1, 50, 2_147_483_647, -2_147_483_648, g.int(-1000, 100_000)]), g.chance(0.5) ? j(g.json()) : null, g.jsonText(),
      j(g.json()), g.textArray(), g.chance(0.3) ? g.jsonText() : null, j(g.json()), g.chance(0.5) ? j(g.json()) : null, g.chance(0.5) ? j(g.json()) : null,
      g.chance(0.3) ? g.text() : null, node, g.timestamp(), g.timestamp(), g.chance(0.7) ? g.timestamp() : null,
      g.chance(0.3) ? randomUUID() : null,
    ]);
    if (i % 5 === 0) {
      await db.pool.query(NODES(db.q), [
        g.pick(["gone", g.text(), `n${i}`]), g.textArray(), j(g.json()), g.pick([g.textArray(), ["test#add"], []]), g.text(), g.int(-1, 2 ** 31 - 1),
        g.timestamp(), g.timestamp(), g.timestamp(),
      ]);
      await db.pool.query(TASKS(db.q), [
        g.pick(["test#add", "test#echo", g.text()]), g.pick([`g${i}`, g.text()]), g.text(), g.chance(0.5) ? g.text() : null, g.int(-(2 ** 31), 2 ** 31 - 1),
        g.int(-(2 ** 31), 2 ** 31 - 1), g.text(), g.pick([["a", "b"], ["value"], g.textArray()]), g.text(), g.timestamp(), g.timestamp(),
      ]);
    }
  }
}

describe("garbage in every column", () => {
  it("ordinary jobs keep flowing on the same worker, no worker statement fails, and the worker stops within its grace", async () => {
    const db = await testDatabase();
    const d = await db.start({ queues: { ad_hoc_worker: 8 }, unknownTaskGrace: 300, heartbeatInterval: 100, leaseTtl: 1_000, pollInterval: 50, shutdownGrace: 2_000 });
    const failures: string[] = [];
    d.on("node:error", ({ during, error }) => failures.push(`${during}: ${error.message}`));
    const g = new Garbage(prng(20261207));
    const batch = (from: number) => d.asyncMany(Array.from({ length: 20 }, (_, i) => [tasks.add, { a: from + i, b: 1 }] as [typeof tasks.add, Record<string, unknown>]));

    const handles = [...(await batch(0))];
    for (let round = 0; round < 6; round++) {
      await insertGarbage(db, g, d.runner!.nodeId, 40);
      handles.push(...(await batch((round + 1) * 100)));
    }
    const results = await Promise.all(handles.map((h) => d.await(h, { timeout: "60s" })));
    const expected = [0, ...Array.from({ length: 6 }, (_, r) => (r + 1) * 100)].flatMap((from) => Array.from({ length: 20 }, (_, i) => from + i + 1));
    expect(results).toEqual(expected);
    expect(failures).toEqual([]);

    const started = Date.now();
    await d.stop();
    expect(Date.now() - started).toBeLessThan(2_000 + 8_000);
    const { rows } = await db.pool.query(`select state, count(*)::int as n from ${db.q}.jobs group by state order by state`);
    console.info("garbage rows by state after the run:", Object.fromEntries(rows.map((r) => [r.state, r.n])));
  });
});
