import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { latestVersion, loadMigrations } from "../../src/db/migrate.js";

// A database created by the first release (captures and results in jsonb
// columns) upgrades in place: its queued jobs run, its recorded results are
// awaited, and new values keep their exact text from then on.

describe("upgrading a database from migration 1", () => {
  it("keeps queued jobs and recorded results working, and stores new values exactly", async () => {
    const db = await testDatabase();
    const first = loadMigrations().find((m) => m.version === 1)!;
    await db.pool.query(`create schema ${db.q}`);
    await db.pool.query(`create table ${db.q}.migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())`);
    await db.pool.query(`insert into ${db.q}.migrations (version, name) values (1, $1)`, [first.name]);
    await db.pool.query(first.sql.replaceAll(":SCHEMA", db.q));
    const queued = (await db.pool.query(
      `insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures) values
       ('available', 'ad_hoc_worker', 'test#echo', 'h-test#echo', 1, 10000, '{"json": {"value": {"zeta": 1, "a": 2}}}'::jsonb) returning id::text`,
    )).rows[0].id;
    const done = (await db.pool.query(
      `insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, result, completed_at, finished_at) values
       ('completed', 'ad_hoc_worker', 'test#echo', 'h-test#echo', 1, 10000, '{"json": {}}'::jsonb, '{"json": "old result"}'::jsonb, now(), now()) returning id::text`,
    )).rows[0].id;

    const d = await db.start();
    const { rows } = await db.pool.query(`select max(version)::int as v from ${db.q}.migrations`);
    expect(rows[0].v).toBe(latestVersion());
    expect(await d.await(done, { timeout: "10s" })).toBe("old result");
    // jsonb had already put the old row's keys in its own order.
    expect(await d.await(queued, { timeout: "10s" })).toEqual({ a: 2, zeta: 1 });
    const fresh = await d.async(tasks.echo, { value: { zeta: 1, a: "\u0000" } });
    expect(Object.entries((await d.await(fresh, { timeout: "10s" })) as object)).toEqual([["zeta", 1], ["a", "\u0000"]]);
    const types = await db.pool.query(
      `select column_name, data_type from information_schema.columns where table_schema = $1 and table_name = 'jobs' and column_name in ('captures', 'result') order by column_name`,
      [db.schema],
    );
    expect(types.rows).toEqual([{ column_name: "captures", data_type: "json" }, { column_name: "result", data_type: "json" }]);
  });
});
