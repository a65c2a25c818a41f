import { describe, expect, it, onTestFinished } from "vitest";
import pg from "pg";
import { databaseUrl, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { fetchJobs } from "../../src/runner/queries.js";
import { PgJobSource } from "../../src/runner/job-source.js";
import { replanning } from "../../src/db/statements.js";

// The prepared claim must settle on PostgreSQL's generic plan: a claim that
// is re-planned on every call spends as long planning as claiming. It once
// was for nodes with one or two task keys (see pickDueJobs).
describe("the prepared claim", () => {
  for (const keyCount of [1, 2, 40]) {
    it(`keeps one generic plan for a node with ${keyCount} task key(s)`, async () => {
      const db = await testDatabase();
      const d = await db.start({ run: false });
      const keys = ["test#echo:h-test#echo", ...Array.from({ length: keyCount - 1 }, (_, i) => `other#${i}:h`)];
      const client = new pg.Client({ connectionString: databaseUrl() });
      await client.connect();
      try {
        for (let i = 0; i < 12; i++) {
          if (i % 2 === 0) await d.async(tasks.echo, { value: i });
          await client.query({ name: "claim-under-test", text: fetchJobs(db.q), values: ["ad_hoc_worker", keys, 1, "node-a", 1_000_000] });
        }
        const { rows } = await client.query("select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where name = 'claim-under-test'");
        // PostgreSQL plans the first five calls with their values, then compares.
        expect(rows[0]).toEqual({ generic: 7, custom: 5 });
      } finally {
        await client.end();
      }
    });
  }
});

describe("hot statements' cached plans", () => {
  const keys = ["test#echo:h-test#echo"];
  const control = { paused: false, concurrency: null, globalConcurrency: null, rateLimit: null };

  it("a connection whose claim plan was made on a nearly empty partition re-plans once a claim is slow", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    // No analyze behind the test's back: that would re-plan too.
    await db.pool.query(`alter table ${db.q}.jobs_active set (autovacuum_enabled = false)`);
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
    onTestFinished(async () => {
      Object.assign(replanning, defaults);
      await pool.end();
    });
    const defaults = { ...replanning };
    replanning.slowMs = Infinity;
    const source = new PgJobSource(pool, db.q, "ad_hoc_worker", "node-a", 1_000_000);
    // The generic plan is made on the sixth call, while the partition holds a job or two.
    for (let i = 0; i < 8; i++) {
      await d.async(tasks.echo, { value: i });
      await source.claim(1, keys, control);
    }
    for (let i = 0; i < 20; i++) await d.asyncMany(Array.from({ length: 1_000 }, (_, k) => [tasks.echo, { value: k }] as [typeof tasks.echo, Record<string, unknown>]));
    await d.stop();
    const seqScans = async () => {
      await pool.query("select pg_stat_force_next_flush()");
      await db.pool.query("select pg_stat_clear_snapshot()");
      return (await db.pool.query(`select seq_scan::int as n from pg_stat_user_tables where relid = '${db.q}.jobs_active'::regclass`)).rows[0].n as number;
    };
    const before = await seqScans();
    await source.claim(1, keys, control);
    await source.claim(1, keys, control);
    // The stale plan: each claim reads the whole partition (PostgreSQL 15
    // plans so; 18 picks the index even for a nearly empty partition, and
    // then there is nothing to re-plan).
    const stale = (await seqScans()) - before;
    expect([0, 2]).toContain(stale);
    replanning.slowMs = 0;
    replanning.everyMs = 0;
    await source.claim(1, keys, control); // still the stale plan; being "slow", its connection drops it
    replanning.slowMs = Infinity;
    await source.claim(1, keys, control);
    await source.claim(1, keys, control);
    expect((await seqScans()) - before).toBe(stale === 2 ? 3 : 0);
  });
});

describe("JIT", () => {
  // On servers built with LLVM, a batch's conflict check passes jit_above_cost
  // once the tables hold tens of thousands of unique jobs, and compiling it
  // cost 24 ms per 1,000-row batch for a 5 ms query (migration 0012).
  it("the unique conflict check runs with JIT off, whatever the server's setting", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const { rows } = await db.pool.query(
      `select p.proconfig from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = $1 and p.proname = 'lock_unique_conflicts'`,
      [db.schema],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].proconfig).toContain("jit=off");
  });
});
