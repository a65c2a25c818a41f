import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { databaseUrl, eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/dashboard-tasks.mjs";
import { CSV_COLUMNS } from "../../src/reports/index.js";
import { insertHostile } from "../support/hostile-rows.js";
import { runToEnd, type Run } from "../support/run-to-end.js";

// The real built binary (npm test builds first), against a real database.
const BIN = join(process.cwd(), "dist/src/cli/bin.js");


function durable(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runToEnd([BIN, ...args], { env: { ...process.env, DATABASE_URL: databaseUrl(), NO_COLOR: "1", ...env } });
}

/** Starts a long-running command and resolves once its output matches `ready`. */
function background(args: string[], ready: RegExp) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: databaseUrl() } });
  let output = "";
  const started = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d;
      const m = ready.exec(output);
      if (m) resolve(m[1] ?? m[0]);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("close", (code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, started, exited, output: () => output };
}

describe("durable CLI", () => {
  it("prints help for every command and exits 0", async () => {
    const top = await durable(["--help"]);
    expect(top.code).toBe(0);
    for (const c of ["worker", "migrate", "dashboard", "check", "build", "jobs", "queues", "nodes", "dev"]) expect(top.stdout).toContain(c);
    for (const args of [["jobs", "--help"], ["jobs", "list", "--help"], ["queues", "pause", "--help"], ["worker", "--help"], ["dashboard", "--help"], ["dev", "--help"]]) {
      const r = await durable(args);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stdout).toMatch(/Usage: durable/);
    }
  });

  it("rejects bad arguments with an error naming the argument and the fix, non-zero exit", async () => {
    const { schema } = await testDatabase();
    const cases: Array<[string[], RegExp, number]> = [
      [["jobs", "list", "--state", "faild", "--schema", schema], /--state.*unknown state "faild".*Did you mean "failed"/s, 2],
      [["jobs", "list", "--limit", "lots"], /--limit.*expected a row count: an integer from 1 to 1000/, 2],
      [["jobs", "show", "abc"], /"abc" is not a job id/, 2],
      [["jobs", "retry"], /give job ids or a filter/, 2],
      [["jobs", "list", "--since", "yesterday-ish"], /--since.*is not a date/, 2],
      [["jobs", "list", "--meta", "orgId"], /--meta.*key=value/, 2],
      [["queues", "scale", "ad_hoc_worker", "many"], /concurrency.*integer from 0 to 10000/, 2],
      [["queues", "pause", "bad queue!"], /queue name/, 2],
      [["queues", "pause", "q", "--for", "soon"], /"soon" is not a duration/, 2],
      [["jobs", "list", "--schema", "Bad-Name"], /Invalid schema name.*Try "bad_name"/, 2],
      [["jbos"], /unknown command 'jbos'.*Did you mean jobs\?/s, 2],
      [["jobs", "list", "--frobnicate"], /unknown option '--frobnicate'/, 2],
      [["dashboard", "--host", "0.0.0.0"], /--token/, 2],
      [["dashboard", "--port", "99999"], /--port.*TCP port/, 2],
      [["worker", "--import", "./does-not-exist.js", "--schema", schema], /--import \.\/does-not-exist\.js: no such file/, 2],
      [["worker", "--node-type", "wroker", "--schema", schema], /unknown node type "wroker"\. Did you mean "worker"\?/, 2],
      [["jobs", "list", "--schema", "never_migrated_here"], /schema "never_migrated_here" has no durable tables\. Run `durable migrate/, 1],
      [["dashboard", "--port", "0", "--schema", "never_migrated_here"], /schema "never_migrated_here" has no durable tables/, 1],
      // Ids, filters and connection strings that used to reach Postgres (or nothing at all) as-is.
      [["jobs", "cancel", "abc"], /value 'abc' is invalid for argument 'ids'.*not a job id/, 2],
      [["jobs", "delete", "7", "-3"], /value '-3' is invalid for argument 'ids'/, 2],
      [["jobs", "retry", "1", "99999999999999999999", "--schema", schema], /'99999999999999999999' is invalid for argument 'ids'.*up to 9223372036854775807/, 2],
      [["jobs", "show", "9223372036854775808", "--schema", schema], /'9223372036854775808' is invalid for argument 'id'/, 2],
      [["jobs", "list", "--after", "99999999999999999999"], /--after.*not a job id/, 2],
      [["jobs", "list", "--meta", 'name="a\\u0000b"', "--schema", schema], /option '--meta' \(at meta\.name\): holds a NUL character/, 2],
      [["jobs", "cancel", "--meta", 'k={"x":"\\ud800"}', "--schema", schema], /option '--meta' \(at meta\.k\.x\): holds a lone surrogate/, 2],
      [["jobs", "list", "--limit", "-5"], /--limit.*integer from 1 to 1000/, 2],
      [["jobs", "list", "--limit", "1e400"], /--limit.*integer from 1 to 1000/, 2],
      [["jobs", "list", "--since", "99999999999d"], /--since.*is not a date/, 2],
      [["queues", "list", "--bogus"], /unknown option '--bogus'/, 2],
      [["jobs", "list", "--database", "notaurl"], /option '--database' is not a PostgreSQL connection URL/, 2],
      [["jobs", "cancel", "1", "--database", "postgres://u:hunter2@[bad"], /option '--database' cannot be parsed as a URL/, 2],
      [["queues", "pause", "q", "--database", "mysql://localhost/x"], /option '--database' is not a PostgreSQL connection URL/, 2],
      [["migrate", "--database", ""], /option '--database' is empty/, 2],
    ];
    const garbageEnv = await durable(["jobs", "list"], { DATABASE_URL: "not a url" });
    expect(garbageEnv.stderr).toMatch(/`DATABASE_URL`: is not a PostgreSQL connection URL/);
    expect(garbageEnv.code).toBe(2);
    for (const [args, message, code] of cases) {
      const r = await durable(args);
      expect(r.stderr).not.toContain("hunter2");
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.code, args.join(" ")).toBe(code);
      expect(r.stderr).not.toMatch(/^\s+at /m); // no stack traces for user errors
    }
  });

  it("migrates, lists, shows, retries, cancels and exports jobs", async () => {
    const db = await testDatabase();
    const migrate = await durable(["migrate", "--schema", db.schema]);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toMatch(/Applied migration/);
    expect((await durable(["migrate", "--schema", db.schema])).stdout).toMatch(/up to date/);

    const d = await db.start();
    const ok = await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } }, { meta: { orgId: 7 }, tags: ["welcome"] });
    await d.await(ok, { timeout: "10s" });
    const bad = await d.async(tasks.chargeCard, { order: { id: 4242, total: 5 } }, { maxAttempts: 1 });
    await expect(d.await(bad, { timeout: "10s" })).rejects.toThrow(/card declined/);
    const waiting = await d.async(tasks.sendWelcomeEmail, { user: { id: 2, email: "b@example.com" } }, { nodeType: "datasync" });
    const importing = await d.async(tasks.importCsv, { rows: 10 });
    await eventually("progress recorded", async () => (await db.pool.query(`select progress from ${db.q}.jobs where id = $1`, [importing.id])).rows[0].progress);
    const s = ["--schema", db.schema];

    const table = await durable(["jobs", "list", ...s]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    // No worker runs datasync here: its job waits, and the table adds what it waits for.
    expect(lines[0]).toMatch(/^\s*ID\s+STATE\s+QUEUE\s+TASK\s+ATTEMPT\s+PROGRESS\s+INSERTED\s+RUNNING\s+LAST ERROR\s+WAITING FOR A NODE$/);
    expect(lines.find((l) => l.includes("ad_hoc_datasync"))).toMatch(/a node that serves queue ad_hoc_datasync/);
    const onlyWaiting = await durable(["jobs", "list", ...s, "--waiting-for-node", "--json"]);
    expect(JSON.parse(onlyWaiting.stdout).map((j: { id: string }) => j.id)).toEqual([waiting.id]);
    // The executing import shows for how long it has run.
    expect(lines.find((l) => l.includes("executing"))).toMatch(/executing.*\d+s\s/);
    expect(lines).toHaveLength(5);
    // Aligned: every row's state column starts where the header's does.
    const stateAt = lines[0]!.indexOf("STATE");
    for (const line of lines.slice(1)) expect(line.slice(stateAt)).toMatch(/^(completed|discarded|available|executing)/);
    expect(table.stdout).toContain("[####------] 40% 4/10");

    const withMeta = await durable(["jobs", "list", "--meta-column", "--tag", "welcome", ...s]);
    expect(withMeta.stdout.split("\n")[0]).toMatch(/RUNNING\s+META\s+LAST ERROR$/);
    expect(withMeta.stdout).toContain(`{"orgId":7}`);

    const json = JSON.parse((await durable(["jobs", "list", "--json", "--state", "failed", ...s])).stdout);
    expect(json.map((j: { id: string }) => j.id)).toEqual([bad.id]);
    const byMeta = JSON.parse((await durable(["jobs", "list", "--json", "--meta", "orgId=7", "--tag", "welcome", ...s])).stdout);
    expect(byMeta.map((j: { id: string }) => j.id)).toEqual([ok.id]);

    const show = await durable(["jobs", "show", bad.id, ...s]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("caller:      src/orders.ts:42:5 in OrderService.charge");
    expect(show.stdout).toContain("payments.charge(order.id, order.total)");
    expect(show.stdout).toMatch(/Error: card declined for order 4242\n\s+at /);
    expect((await durable(["jobs", "show", importing.id, ...s])).stdout).toMatch(/progress:\s+\[########------------\] 40% 4\/10 importing rows/);
    const missing = await durable(["jobs", "show", "987654", ...s]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/job 987654 does not exist/);

    tasks.accepted.add(4242);
    const retried = await durable(["jobs", "retry", bad.id, ...s]);
    expect(retried.stdout).toBe("Retried 1 job.\n");
    await eventually("retried job completes", async () => (await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [bad.id])).rows[0].state === "completed");

    const cancelled = await durable(["jobs", "cancel", "--queue", "ad_hoc_datasync", ...s]);
    expect(cancelled.stdout).toBe("Cancelled 1 job.\n");
    expect((await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [waiting.id])).rows[0].state).toBe("cancelled");

    const csv = await durable(["jobs", "export", "--state", "completed", ...s]);
    const rows = csv.stdout.trimEnd().split(/\r?\n/);
    expect(rows[0]).toBe(CSV_COLUMNS.join(","));
    expect(rows).toHaveLength(3);
    expect(csv.stdout).toMatch(/"\{""orgId"": ?7\}"/);
    await d.runner?.cancelRunning(importing.id, "test over");
  });

  it.skipIf(!existsSync("/usr/bin/script"))("draws a progress bar for bulk operations on a terminal only", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const many = (n: number) => Array.from({ length: n }, (_, i) => [tasks.sendWelcomeEmail, { user: { id: i, email: "x@example.com" } }, { nodeType: "datasync" }] as [any, any, any]);
    await d.asyncMany(many(3000));
    // script(1) gives the command a pseudo-terminal, as an operator's shell would.
    const command = [process.execPath, BIN, "jobs", "cancel", "--queue", "ad_hoc_datasync", "--schema", db.schema].map((a) => `'${a}'`).join(" ");
    const onTty = await new Promise<string>((resolve, reject) => {
      const child = spawn("/usr/bin/script", ["-qec", command, "/dev/null"], { env: { ...process.env, DATABASE_URL: databaseUrl() } });
      let out = "";
      child.stdout.on("data", (c) => (out += c));
      child.on("error", reject);
      child.on("close", () => resolve(out));
    });
    expect(onTty).toMatch(/cancelling \[[#-]{30}\] \d+% \d+\/3000/);
    expect(onTty).toContain("Cancelled 3000 jobs.");
    await d.asyncMany(many(1500));
    const piped = await durable(["jobs", "cancel", "--queue", "ad_hoc_datasync", "--schema", db.schema]);
    expect(piped.stdout).toBe("Cancelled 1500 jobs.\n");
    expect(piped.stderr).toBe("");
  });

  it("lists and shows hostile rows (the meta column too), exit 0, never a raw error", async () => {
    const db = await testDatabase();
    await (await db.start({ run: false })).async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } }, { meta: { orgId: 7 } });
    const ids = await insertHostile(db);
    const outputs: string[] = [];
    for (const args of [["jobs", "list", "--limit", "100", "--meta-column"], ["jobs", "list", "--json", "--limit", "100"], ["jobs", "show", ids[10]!]]) {
      const r = await durable([...args, "--schema", db.schema]);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      expect(r.stdout.length, args.join(" ")).toBeLessThan(args.includes("--json") ? 10_000_000 : 1_000_000);
      outputs.push(r.stdout);
    }
    for (const id of ids) expect(outputs[0]).toMatch(new RegExp(`^\\s*${id}\\s`, "m"));
    expect(outputs[0]).toContain(`{"orgId":7}`);
    expect(outputs[2]).toMatch(/more characters not shown|…/);
  });

  it("lists, pauses, resumes and scales queues", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } });
    const s = ["--schema", db.schema];
    const list = await durable(["queues", "list", ...s]);
    expect(list.stdout).toMatch(/^QUEUE\s+PAUSED\s+CONCURRENCY\s+RATE LIMIT\s+AVAILABLE/);
    expect(list.stdout).toMatch(/ad_hoc_worker\s+no\s+0\s+1/);
    expect((await durable(["queues", "pause", "ad_hoc_worker", "--for", "1h30m", ...s])).stdout).toMatch(/^Paused ad_hoc_worker for 1h30m\.$/m);
    const paused = JSON.parse((await durable(["queues", "list", "--json", ...s])).stdout);
    expect(paused[0]).toMatchObject({ name: "ad_hoc_worker", paused: true });
    expect(new Date(paused[0].pausedUntil).getTime()).toBeGreaterThan(Date.now() + 5_300_000);
    await durable(["queues", "resume", "ad_hoc_worker", ...s]);
    await durable(["queues", "scale", "ad_hoc_worker", "3", ...s]);
    const after = JSON.parse((await durable(["queues", "list", "--json", ...s])).stdout);
    expect(after[0]).toMatchObject({ paused: false, concurrency: 3 });
  });

  it("lists live nodes by build, drains and undrains a build", async () => {
    const db = await testDatabase();
    await db.start({ version: "v7", heartbeatInterval: 200 });
    const s = ["--schema", db.schema];
    const list = await durable(["nodes", ...s]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^BUILD\s+NODES\s+HOSTS\s+TASKS\s+JOBS ONLY IT RUNS$/m);
    expect(list.stdout).toMatch(/^v7\s+1\s/m);
    const drained = await durable(["nodes", "drain", "v7", ...s]);
    expect(drained.stdout).toMatch(/^Drained build v7 \(1 live node\)/);
    expect(JSON.parse((await durable(["nodes", "list", "--json", ...s])).stdout)[0]).toMatchObject({ build: "v7", draining: true });
    expect((await durable(["nodes", "undrain", "v7", ...s])).stdout).toMatch(/^Undrained build v7 \(1 live node\)/);
    const bad = await durable(["nodes", "drain", "two words", ...s]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/build name/);
  });

  it("runs a worker that loads the user's module and executes its jobs until SIGTERM", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const worker = background(["worker", "--import", "./test/support/dashboard-tasks.mjs", "--schema", db.schema, "--queues", "ad_hoc_worker=2"], /durable worker (\S+):/);
    await worker.started;
    expect(worker.output()).toMatch(/ad_hoc_worker×2; \d+ tasks known/);
    const job = await d.async(tasks.sendWelcomeEmail, { user: { id: 3, email: "c@example.com" } });
    expect(await d.await(job, { timeout: "20s" })).toEqual({ sent: "c@example.com" });
    worker.child.kill("SIGTERM");
    await worker.exited;
    expect((await db.pool.query(`select count(*)::int n from ${db.q}.nodes where queues <> '{}'::jsonb`)).rows[0].n).toBe(0); // the API node stays
  });

  it("serves the dashboard", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    const server = background(["dashboard", "--port", "0", "--schema", db.schema], /dashboard on (http:\S+\/)/);
    const url = await server.started;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await res.text()).toContain("<h1>Overview</h1>");
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });

  it("starts, reports and stops the embedded dev server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "durable-dev-"));
    try {
      const d = ["--data-dir", join(dir, "pg")];
      const before = await durable(["dev", "status", ...d]);
      expect(before.code).toBe(3);
      expect(before.stdout).toMatch(/Not running/);
      const start = await durable(["dev", "start", "--json", ...d]);
      expect(start.code).toBe(0);
      const info = JSON.parse(start.stdout);
      expect(info).toMatchObject({ started: true });
      // The URL carries the generated password; without it the server lets no one in.
      expect(info.url).toMatch(/^postgres:\/\/postgres:[A-Za-z0-9_-]{32}@127\.0\.0\.1:\d+\/postgres$/);
      const again = await durable(["dev", "start", ...d]);
      expect(again.stdout).toContain(`Already running: ${info.url}`);
      const status = await durable(["dev", "status", ...d]);
      expect(status.stdout).toContain(info.url);
      expect((await durable(["dev", "stop", ...d])).stdout).toMatch(/Stopped/);
      expect((await durable(["dev", "status", ...d])).code).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
