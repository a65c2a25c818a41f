import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import { runExample } from "../support/examples.js";

describe("examples/demo (npm start)", { timeout: 180_000 }, () => {
  it("runs three processes, shows a retry, a dedupe hit and a cancelled job, and its summary matches the database", async () => {
    const db = await testDatabase();
    const run = await runExample("demo", { schema: db.schema, env: { DEMO_SCHEMA: db.schema }, timeoutMs: 110_000 });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/\[worker \d+\]\s+✗ job \d+ welcome-email attempt 1: SMTP timeout/);
    expect(run.stdout).toMatch(/\[worker \d+\]\s+▶ job \d+ welcome-email \(attempt 2\/3\)/);
    expect(run.stdout).toMatch(/\[datasync \d+\]\s+✓ job \d+ import-csv completed/);
    expect(run.stdout).toContain("dedupe hit");
    expect(run.stdout).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    expect(run.stdout).toContain("✓ the counts match the database");

    const { rows } = await db.pool.query(`select state, count(*)::int as n from ${db.q}.jobs group by 1 order by 1`);
    const counts = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    expect(counts).toEqual({ completed: 13, discarded: 1, cancelled: 1 });
    for (const [state, n] of Object.entries(counts)) expect(run.stdout).toMatch(new RegExp(`${state}\\s+\\d+ awaited here,\\s+${n} in the database`));
    const retried = await db.pool.query(`select attempt, jsonb_array_length(errors) as errors from ${db.q}.jobs where task_id = 'welcome-email' and meta->>'email' = 'grace@example.com'`);
    expect(retried.rows).toEqual([{ attempt: 2, errors: 1 }]);
    // The demo is a project of its own (DURABLE_ROOT): its workers know its tasks, not the other examples'.
    const files = await db.pool.query(`select distinct file from ${db.q}.tasks order by 1`);
    expect(files.rows.map((r) => r.file)).toEqual(["main.ts", "tasks.ts"].filter((f) => files.rows.some((r) => r.file === f)));
    expect(files.rows.length).toBeGreaterThan(0);
    // Three node types took part: the API process enqueued, two worker processes ran.
    const nodes = await db.pool.query(`select distinct queue from ${db.q}.jobs order by 1`);
    expect(nodes.rows.map((r) => r.queue)).toEqual(["ad_hoc_datasync", "ad_hoc_worker"]);
  });

  it("on the embedded default, starts a server when none runs and stops it before exiting", async () => {
    const dir = mkdtempSync(join(tmpdir(), "durable-demo-"));
    try {
      const env: Record<string, string> = { DURABLE_DATA_DIR: join(dir, "pg") };
      const run = await runExample("demo", { schema: "durable_demo", env: { ...env, DATABASE_URL: "" }, timeoutMs: 115_000 });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stdout).toContain("started the embedded PostgreSQL");
      expect(run.stdout).toContain("stopped the embedded PostgreSQL this demo started");
      const url = /started the embedded PostgreSQL at (\S+)/.exec(run.stdout)![1]!;
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
      await expect(client.connect()).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
