import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { databaseUrl, eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/dashboard-tasks.mjs";
import { runToEnd, type Run } from "../support/run-to-end.js";
import { latestVersion } from "../../src/db/migrate.js";

// Defects an operator met with the packed CLI: flags ignored, typos persisted,
// raw errors, terminal escapes from job data, writes to a newer schema.
// Each case: a clear error naming the thing and the fix, a non-zero exit, and
// nothing changed.

const BIN = join(process.cwd(), "dist/src/cli/bin.js");

function durable(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runToEnd([BIN, ...args], { env: { ...process.env, DATABASE_URL: databaseUrl(), NO_COLOR: "1", ...env } });
}

function expectRefused(r: Run, message: RegExp, code = 2): void {
  expect(r.stderr, r.stderr).toMatch(message);
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

describe("durable worker flags with an entry that starts durable itself", () => {
  it("applies --schema, --node-type and --queues over the entry's durable.start() options", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const child = spawn(
      process.execPath,
      [BIN, "worker", "--import", "./test/support/worker-entry-starts.mjs", "--schema", db.schema, "--node-type", "datasync", "--queues", "ad_hoc_datasync=3"],
      { env: { ...process.env, DATABASE_URL: databaseUrl(), DURABLE_LOG_LEVEL: "warn" } },
    );
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      await eventually("worker banner", () => /durable worker \S+:/.test(output) || undefined, 30_000);
      expect(output).toMatch(/--schema, --node-type, --queues apply over the options of the entry's durable.start\(\)/);
      expect(output).toContain(`ad_hoc_datasync×3`);
      expect(output).toContain(`schema "${db.schema}"`);
      expect(output).not.toContain("ad_hoc_worker");
      const { rows } = await db.pool.query(`select node_types, queues from ${db.q}.nodes where queues <> '{}'::jsonb`);
      expect(rows).toEqual([{ node_types: ["datasync"], queues: { ad_hoc_datasync: 3 } }]);
      const job = await d.async(tasks.sendWelcomeEmail, { user: { id: 9, email: "ds@example.com" } }, { nodeType: "datasync" });
      expect(await d.await(job, { timeout: "20s" })).toEqual({ sent: "ds@example.com" });
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });
});

describe("queue, node type and build names", () => {
  it("refuses an unknown queue with a suggestion, persists nothing, and --create configures it anyway", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } });
    const s = ["--schema", db.schema];
    for (const args of [["queues", "pause", "ad_hoc_wroker"], ["queues", "resume", "ad_hoc_wroker"], ["queues", "scale", "ad_hoc_wroker", "3"], ["queues", "resize", "ad_hoc_wroker", "3"]]) {
      const r = await durable([...args, ...s]);
      expectRefused(r, /queue.*"ad_hoc_wroker".*Did you mean "ad_hoc_worker"\?.*--create/s);
      expect(r.stdout).toBe("");
    }
    expect((await db.pool.query(`select count(*)::int n from ${db.q}.queues`)).rows[0].n).toBe(0);
    // The known queue works as before; --create is the documented way for a queue no node serves yet.
    expect((await durable(["queues", "pause", "ad_hoc_worker", ...s])).code).toBe(0);
    const created = await durable(["queues", "pause", "exports_next_release", "--create", ...s]);
    expect(created.stdout).toBe("Paused exports_next_release.\n");
    expect((await db.pool.query(`select name from ${db.q}.queues order by name`)).rows.map((r) => r.name)).toEqual(["ad_hoc_worker", "exports_next_release"]);
  });

  it("refuses an unknown node type for queues add, as durable worker does", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const s = ["--schema", db.schema];
    const r = await durable(["queues", "add", "q1", "--node-type", "wroker", ...s]);
    expectRefused(r, /unknown node type "wroker"\. Did you mean "worker"\?.*DURABLE_NODE_TYPES/s);
    expectRefused(await durable(["queues", "add", "q1", "--node-type", "nosuchtype", ...s]), /unknown node type "nosuchtype"/);
    expect((await db.pool.query(`select count(*)::int n from ${db.q}.queues`)).rows[0].n).toBe(0);
    expect((await durable(["queues", "add", "q1", "--node-type", "reports", ...s], { DURABLE_NODE_TYPES: "reports" })).code).toBe(0);
    expect((await durable(["queues", "add", "q2", "--node-type", "billing", "--node-types", "billing", ...s])).code).toBe(0);
    expect((await durable(["queues", "add", "q3", "--node-type", "datasync", ...s])).code).toBe(0);
  });

  it("refuses to drain a build no live node runs, listing the live ones; --force drains it anyway", async () => {
    const db = await testDatabase();
    await db.start({ version: "v7", heartbeatInterval: 200 });
    const s = ["--schema", db.schema];
    const r = await durable(["nodes", "drain", "v8", ...s]);
    expectRefused(r, /no live node runs build "v8"\. Did you mean "v7"\? Live builds: v7 .*--force/);
    expect((await db.pool.query(`select count(*)::int n from ${db.q}.nodes where draining`)).rows[0].n).toBe(0);
    expect((await durable(["nodes", "drain", "v8", "--force", ...s])).code).toBe(0);
  });
});

describe("job data on a terminal", () => {
  it("shows control characters in errors, results and meta as text; --json stays exact", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const job = await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } }, { meta: { note: "a\u001b]8;;http://x\u0007b\u009bc" } });
    const message = "boom\u001b[1A\u001b[2Kfaked\rline\u007f";
    await db.pool.query(
      `update ${db.q}.jobs set state = 'discarded', discarded_at = now(), finished_at = now(), errors = $2::jsonb where id = $1`,
      [job.id, JSON.stringify([{ attempt: 1, at: new Date().toISOString(), name: "Error", message, stack: `Error: ${message}\n    at x (y.ts:1:1)` }])],
    );
    const s = ["--schema", db.schema];
    const outputs = [await durable(["jobs", "list", "--meta-column", ...s]), await durable(["jobs", "show", job.id, ...s])];
    for (const r of outputs) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(r.stdout).toContain("boom\\u001b[1A\\u001b[2Kfaked");
    }
    expect(outputs[1]!.stdout).toContain("faked\\u000dline\\u007f");
    expect(outputs[1]!.stdout).toContain("a\\u001b]8;;http://x\\u0007b\\u009bc");
    const json = await durable(["jobs", "show", job.id, "--json", ...s]);
    expect(json.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.errors[0].message).toBe(message);
    expect(parsed.meta.note).toBe("a\u001b]8;;http://x\u0007b\u009bc");
  });
});

describe("migrate", () => {
  it("migrates as a role that owns the schema but may not create schemas in the database", async () => {
    const db = await testDatabase();
    const role = `owner_${db.schema}`;
    const password = "owner-pass-1234";
    await db.pool.query(`create role ${role} login password '${password}'`);
    try {
      await db.pool.query(`create schema ${db.q} authorization ${role}`);
      const url = new URL(databaseUrl());
      url.username = role;
      url.password = password;
      const r = await durable(["migrate", "--database", url.toString(), "--schema", db.schema]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Applied migration/);
      expect((await db.pool.query(`select max(version)::int v from ${db.q}.migrations`)).rows[0].v).toBe(latestVersion());
    } finally {
      await db.pool.query(`drop schema if exists ${db.q} cascade`);
      await db.pool.query(`drop role if exists ${role}`);
    }
  });

  it("wraps a refused connection like the other commands", async () => {
    const r = await durable(["migrate", "--database", "postgres://u:hunter2@127.0.0.1:1/test"]);
    expectRefused(r, /cannot connect to the database: .*ECONNREFUSED.*Check --database \/ DATABASE_URL\./, 1);
    expect(r.stderr).not.toContain("hunter2");
  });
});

describe("jobs commands that touch nothing say why", () => {
  it("names a missing id and a state the command does not apply to, exit 1", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const job = await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } });
    await db.pool.query(`update ${db.q}.jobs set state = 'executing', attempted_at = now(), attempt = 1 where id = $1`, [job.id]);
    const s = ["--schema", db.schema];
    expectRefused(await durable(["jobs", "cancel", "999999", ...s]), /nothing to cancel: job 999999 does not exist/, 1);
    expectRefused(await durable(["jobs", "delete", job.id, ...s]), new RegExp(`nothing to delete: job ${job.id} is executing; delete applies to .*\\(cancel it first\\)`), 1);
    expectRefused(await durable(["jobs", "retry", job.id, ...s]), new RegExp(`nothing to retry: job ${job.id} is executing; retry applies to retryable, discarded, cancelled, completed jobs`), 1);
    expect((await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [job.id])).rows[0].state).toBe("executing");
    // Part done: the count, and the id left alone with its reason.
    const partial = await durable(["jobs", "cancel", job.id, "999999", ...s]);
    expect(partial.code).toBe(0);
    expect(partial.stdout).toBe("Cancelled 1 job.\n");
    expect(partial.stderr).toMatch(/skipped: job 999999 does not exist/);
  });

  it("durable check with a path that does not exist is a bad argument (exit 2)", async () => {
    expectRefused(await durable(["check", "nonexistent.ts"]), /nonexistent\.ts: no such file or directory/);
  });
});

describe("a schema newer than the package", () => {
  it("refuses writes with SchemaNewerError, as migrate and workers do, and changes nothing", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const job = await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } });
    await d.stop();
    const newer = latestVersion() + 1;
    await db.pool.query(`insert into ${db.q}.migrations (version, name) values ($1, 'from_the_future')`, [newer]);
    const s = ["--schema", db.schema];
    const newerMessage = new RegExp(`Schema "${db.schema}" is at migration ${newer} but this version of durable-async knows only up to ${latestVersion()}`);
    for (const args of [["queues", "pause", "ad_hoc_worker"], ["queues", "scale", "ad_hoc_worker", "2"], ["jobs", "cancel", job.id], ["nodes", "drain", "v1", "--force"], ["schedules", "pause", "x"]]) {
      const r = await durable([...args, ...s]);
      expectRefused(r, newerMessage, 1);
    }
    expectRefused(await durable(["migrate", ...s]), newerMessage, 1);
    expect((await db.pool.query(`select count(*)::int n from ${db.q}.queues`)).rows[0].n).toBe(0);
    expect((await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [job.id])).rows[0].state).toBe("available");
    // Reads go on.
    expect((await durable(["jobs", "list", ...s])).code).toBe(0);
  });
});

describe("dates and cron expressions", () => {
  it("refuses impossible dates, expressions that never fire, and an expression with --reset", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const s = ["--schema", db.schema];
    expectRefused(await durable(["jobs", "list", "--since", "2026-02-30", ...s]), /--since.*"2026-02-30" is not a date/);
    expectRefused(await durable(["jobs", "export", "--until", "2025-02-29T10:00Z", ...s]), /--until.*is not a date/);
    expect((await durable(["jobs", "list", "--since", "2024-02-29", ...s])).code).toBe(0);
    expectRefused(await durable(["schedules", "retime", "nightly", "*/5 * * * *", "--reset", ...s]), /either a cron expression or --reset, not both/);
    expectRefused(await durable(["schedules", "retime", "nightly", "0 0 31 2 *", ...s]), /"0 0 31 2 \*" never fires/);
  });
});
