import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namedStatementsEnabled } from "../../src/db/statements.js";
import { databaseUrl, eventually, testDatabase } from "../support/db.js";
import { PGBOUNCER_MISSING, pgbouncerBinary, startPgbouncer, type Bouncer } from "../support/pgbouncer.js";
import { startWorkerProcess } from "../support/processes.js";
import * as ptasks from "../support/process-tasks.mjs";
import * as tasks from "../support/tasks.mjs";
import * as t from "../support/semantics-tasks.mjs";

// The runtime's core scenarios through PgBouncer in transaction pooling mode,
// where each transaction may land on a different server connection: no named
// prepared statements, no LISTEN through the pooler, nothing held across
// statements outside a transaction.

const installed = pgbouncerBinary() !== null;
if (!installed) console.warn(`[pgbouncer] ${PGBOUNCER_MISSING}`);

/** Records every log line, so a test can read the mode a node announced. */
function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  return { lines, logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } };
}

describe.skipIf(!installed)("through PgBouncer in transaction mode", () => {
  let bouncer: Bouncer;
  beforeAll(async () => {
    bouncer = await startPgbouncer(databaseUrl(), { poolSize: 6 });
  });
  afterAll(async () => {
    await bouncer?.stop();
  });

  it("detects the pooler: no named statements, polling alone without a direct URL, and says so", async () => {
    const db = await testDatabase();
    const { lines, logger } = recordingLogger();
    const d = await db.start({ database: bouncer.url, logger });
    expect(namedStatementsEnabled(d.pool)).toBe(false);
    const mode = lines.find((l) => l.message.includes("transaction pooler"));
    expect(mode?.level).toBe("info");
    expect(mode?.message).toMatch(/\(detected\), no named prepared statements; no LISTEN .* polling every 200ms alone/);
    const job = await d.async(tasks.add, { a: 1, b: 2 });
    expect(await d.await(job, { timeout: "20s" })).toBe(3);
  });

  it("enqueues, runs on two processes and awaits: every job exactly once", async () => {
    const db = await testDatabase();
    const api = await db.start({ database: bouncer.url, run: false });
    await db.pool.query(`create table ${db.q}.executions (job_id bigint, n int, pid int, attempt int)`);
    // One node LISTENs on a direct connection, the other polls alone.
    const [a, b] = await Promise.all([
      startWorkerProcess(db.schema, { databaseUrl: bouncer.url, env: { DURABLE_LISTEN_URL: databaseUrl() } }),
      startWorkerProcess(db.schema, { databaseUrl: bouncer.url, env: { DURABLE_LISTEN_URL: "" } }),
    ]);
    const handles = await api.asyncMany(Array.from({ length: 300 }, (_, n) => [ptasks.recordExecution, { schema: db.schema, n }] as [any, any]));
    await eventually("all 300 jobs completed", async () => (await api.jobs.count({ state: "completed" })) === 300, 90_000);
    // The listening node may well have drained them all; with it gone, the polling node must carry on alone.
    a.child.kill("SIGTERM");
    await a.exited;
    await api.asyncMany(Array.from({ length: 50 }, (_, n) => [ptasks.recordExecution, { schema: db.schema, n: 300 + n }] as [any, any]));
    await eventually("the polling node to finish 50 more", async () => (await api.jobs.count({ state: "completed" })) === 350, 90_000);
    const { rows } = await db.pool.query(`select count(*)::int as n, count(distinct job_id)::int as jobs, count(distinct pid)::int as pids from ${db.q}.executions`);
    expect(rows[0]).toEqual({ n: 350, jobs: 350, pids: 2 });
    const job = await api.async(tasks.add, { a: 20, b: 22 });
    expect(await api.await(job, { timeout: "30s" })).toBe(42);
    expect(handles).toHaveLength(300);
    b.child.kill("SIGTERM");
    await b.exited;
  });

  it("retries with backoff until the attempt that succeeds", async () => {
    const db = await testDatabase();
    const d = await db.start({ database: bouncer.url, listenDatabase: databaseUrl() });
    const job = await d.async(tasks.failUntil, { okAt: 3 }, { backoff: { type: "fixed", delay: "10ms" } });
    expect(await d.await(job, { timeout: "30s" })).toBe(3);
    const { rows } = await db.pool.query(`select attempt, jsonb_array_length(errors) as errors from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0]).toEqual({ attempt: 3, errors: 2 });
  });

  it("unique inserts from concurrent callers make one job", async () => {
    const db = await testDatabase();
    const d = await db.start({ database: bouncer.url, run: false });
    const options = { unique: { by: ["meta" as const], period: "1h" }, meta: { sender: "+1555" } };
    const handles = await Promise.all(Array.from({ length: 20 }, () => d.async(t.echo, { value: 1 }, options)));
    expect(new Set(handles.map((h) => h.id)).size).toBe(1);
    expect(handles.filter((h) => !h.conflict)).toHaveLength(1);
    expect(await d.jobs.count()).toBe(1);
  });

  it("cron inserts one job per tick across two nodes", async () => {
    const db = await testDatabase();
    const nodes = await Promise.all([0, 1].map(() => db.start({ database: bouncer.url })));
    for (const n of nodes) n.cron("* * * * * *", t.cronTick, {}, { name: "every-second", tz: "UTC" });
    await eventually("3 ticks", async () => (await db.pool.query(`select count(*)::int as n from ${db.q}.cron_ticks`)).rows[0].n >= 3, 20_000);
    await Promise.all(nodes.map((n) => n.stop({ grace: 1_000 })));
    const { rows } = await db.pool.query(`select (select count(*)::int from ${db.q}.cron_ticks) as ticks, (select count(*)::int from ${db.q}.jobs) as jobs`);
    expect(rows[0].jobs).toBe(rows[0].ticks);
  });

  it("cancel reaches a running job on a polling node", async () => {
    const db = await testDatabase();
    const worker = await db.start({ database: bouncer.url });
    const api = await db.start({ database: bouncer.url, run: false });
    const job = await api.async(t.waitForCancel, {});
    await eventually("the job to start", () => t.started.includes(job.id));
    expect(await api.jobs.cancel({ id: job.id })).toBe(1);
    await expect(api.await(job, { timeout: "20s" })).rejects.toMatchObject({ code: "DURABLE_JOB_CANCELLED" });
    await eventually("the closure's signal to abort", () => t.aborted.find((a) => a.jobId === job.id));
    void worker;
  });

  it("migrates concurrently through the pooler (the advisory lock is transaction-scoped)", async () => {
    const db = await testDatabase();
    const nodes = await Promise.all([0, 1, 2].map(() => db.start({ database: bouncer.url, run: false })));
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.migrations`);
    expect(rows[0].n).toBeGreaterThan(0);
    expect(nodes).toHaveLength(3);
  });
});
