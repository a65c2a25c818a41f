// `npm start`: the whole product in one command. This process is the API
// node; it forks two worker processes of different node types (worker,
// datasync), enqueues a mix of the examples' scenarios, awaits results
// produced by the other processes, and ends with a summary checked against
// the database. `--keep` leaves everything running for the dashboard.
import { spawn, type ChildProcess } from "node:child_process";
import pg from "pg";
import { durable, JobCancelledError, JobFailedError, type JobHandle } from "durable-async";
import { startDashboard, type DashboardServer } from "durable-async/dashboard";
import { ensureEmbeddedPostgres, type EmbeddedServer } from "../../src/db/index.js";
import * as tasks from "./tasks.js";

const startedAt = performance.now();
const keep = process.argv.includes("--keep");
const SCHEMA = process.env.DEMO_SCHEMA ?? "durable_demo";
const say = (line: string) => console.log(`${`[api ${process.pid}]`.padEnd(18)} ${line}`);
const heading = (line: string) => console.log(`\n── ${line}`);

let server: EmbeddedServer | undefined;
let dashboard: DashboardServer | undefined;
const workers: ChildProcess[] = [];

/** Every job this run created, with the state its await ended in. */
const outcomes = new Map<string, { task: string; state: "completed" | "discarded" | "cancelled" }>();
let dedupeHits = 0;

function track<T>(handle: JobHandle<T>, show?: (value: T) => string): Promise<void> {
  return durable.await<T>(handle, { timeout: "60s" }).then(
    (value) => {
      outcomes.set(handle.id, { task: handle.task, state: "completed" });
      if (show) say(`job ${handle.id} ${handle.task}: ${show(value)}`);
    },
    (error) => {
      const state = error instanceof JobCancelledError ? "cancelled" : error instanceof JobFailedError ? "discarded" : null;
      if (!state) throw error;
      outcomes.set(handle.id, { task: handle.task, state });
      say(`job ${handle.id} ${handle.task}: ${state} (${error.lastError?.message ?? error.message})`);
    },
  );
}

function fork(nodeType: string, url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "durable-async/register", "worker.ts", nodeType], {
    cwd: import.meta.dirname,
    env: { ...process.env, DATABASE_URL: url, DURABLE_SCHEMA: SCHEMA },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  workers.push(child);
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`the ${nodeType} process exited with code ${code} before it was ready`)));
  });
}

async function setUp(): Promise<string> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    server = await ensureEmbeddedPostgres();
    url = server.url;
    say(`${server.started ? "started" : "found"} the embedded PostgreSQL at ${url} (data in ${server.dataDir})`);
  } else say(`using DATABASE_URL`);
  // A fresh schema each run, so the summary counts exactly this run's jobs.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`drop schema if exists "${SCHEMA}" cascade`);
  await client.end();
  await durable.start({ database: url, schema: SCHEMA, nodeType: "api", handleSignals: false, logger: { debug() {}, info() {}, warn: console.warn, error: console.error } });
  say(`API node started (nodeType "api"), schema "${SCHEMA}"`);
  const [worker, datasync] = await Promise.all([fork("worker", url), fork("datasync", url)]);
  say(`worker processes ready: worker (pid ${worker.pid}), datasync (pid ${datasync.pid})`);
  // The dashboard's usual port when it is free, any port otherwise.
  const port = Number(process.env.DEMO_DASHBOARD_PORT ?? 4050);
  dashboard = await startDashboard({ instance: durable.instance, port }).catch(() => startDashboard({ instance: durable.instance, port: 0 }));
  say(`dashboard: ${dashboard.url}`);
  return url;
}

async function scenarios(): Promise<void> {
  const pending: Promise<void>[] = [];

  heading("welcome emails (durable.async instead of setImmediate; Grace's first attempt fails and is retried)");
  for (const email of ["ada@example.com", "grace@example.com", "linus@example.com"]) {
    const job = await tasks.registerUser(email);
    say(`registered ${email}: welcome email is job ${job.id}`);
    pending.push(track(job, (v) => v));
  }

  heading("CSV import on the datasync node, with progress");
  const imp = await tasks.startImport(1, 7, 300);
  say(`import 1 is job ${imp.id} on ${imp.queue}`);
  pending.push(track(imp, (v) => `imported ${v.imported} rows`));

  heading("unknown sender: at most one auto-reply per 24h (unique by meta)");
  for (const subject of ["Hello?", "Hello again", "Anyone there?"]) {
    const job = await tasks.onInboundEmail(7, "stranger@example.com");
    if (job.conflict) {
      dedupeHits++;
      say(`email "${subject}": dedupe hit, job ${job.id} already replied; nothing enqueued`);
    } else {
      say(`email "${subject}": auto-reply is job ${job.id}`);
      pending.push(track(job, (v) => v));
    }
  }

  heading("cancelled: a reminder scheduled for in an hour, cancelled before it runs");
  const reminder = await tasks.scheduleReminder(42);
  say(`reminder is job ${reminder.id} (${reminder.state})`);
  const cancelled = await durable.jobs.cancel({ ids: [reminder.id] });
  say(`durable.jobs.cancel: ${cancelled} job cancelled`);
  pending.push(track(reminder));

  heading("SMS: one invalid number is discarded (Discard), the rest sent");
  for (const to of ["+447700900001", "+447700900002", "+447700900010"]) pending.push(track(await tasks.queueSms(7, to), (v) => v));

  heading("cron-style fan-out: one unique datasync child per organisation");
  const fanOut = await tasks.fanOutBloodwork([1, 3, 4]);
  pending.push(
    durable.await<string[]>(fanOut, { timeout: "60s" }).then(async (children) => {
      outcomes.set(fanOut.id, { task: fanOut.task, state: "completed" });
      say(`job ${fanOut.id} bloodwork-fanout enqueued children ${children.join(", ")}`);
      await Promise.all(children.map((id) => track({ id, task: "poll-bloodwork", queue: "ad_hoc_datasync", state: "available", conflict: false }, (org) => `polled org ${org}`)));
    }),
  );

  heading("awaiting results produced by another process");
  const invoice = await tasks.enqueueInvoice(1001);
  pending.push(track(invoice, (v) => `${v.url} rendered by process ${v.renderedBy}, awaited here in ${process.pid}`));
  const now = await tasks.invoiceNow(1002);
  say(`durable.run: ${now.url} rendered by process ${now.renderedBy}`);
  const runJob = (await durable.jobs.list({ task: "render-invoice-now" })).jobs[0]!;
  outcomes.set(runJob.id, { task: runJob.task, state: "completed" });

  await Promise.all(pending);
}

async function summary(): Promise<boolean> {
  const counts = await durable.jobs.countByState();
  const local = { completed: 0, discarded: 0, cancelled: 0 };
  for (const o of outcomes.values()) local[o.state]++;
  const retried = await durable.jobs.list({ state: "completed", task: "welcome-email" });
  const retries = retried.jobs.filter((j) => j.attempt > 1).length;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  heading("summary");
  console.log(`  jobs        ${outcomes.size} seen by this process, ${total} in the database`);
  for (const state of ["completed", "discarded", "cancelled"] as const) {
    console.log(`  ${state.padEnd(11)} ${String(local[state]).padStart(3)} awaited here, ${String(counts[state]).padStart(3)} in the database`);
  }
  console.log(`  retried     ${retries} job(s) completed after a failed attempt`);
  console.log(`  dedupe hits ${dedupeHits} call(s) returned an existing job instead of inserting`);
  const matches = total === outcomes.size && (["completed", "discarded", "cancelled"] as const).every((s) => counts[s] === local[s]);
  console.log(matches ? "  ✓ the counts match the database" : "  ✗ the counts do not match the database");
  console.log(`  wall time   ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  return matches && retries >= 1 && dedupeHits >= 1 && local.cancelled >= 1;
}

async function tearDown(): Promise<void> {
  await Promise.all(
    workers.map((w) => (w.exitCode !== null || w.signalCode !== null ? undefined : new Promise((resolve) => (w.once("exit", resolve), w.kill("SIGTERM"))))),
  );
  await dashboard?.close();
  await durable.stop();
  // Leave a server we found running; stop the one we started, so `npm start` exits cleanly.
  if (server?.started) {
    await server.stop();
    say("stopped the embedded PostgreSQL this demo started");
  }
}

let ok = false;
try {
  console.log(`durable-async demo: an API process and two worker processes on one Postgres\n`);
  await setUp();
  await scenarios();
  ok = await summary();
  if (keep) {
    say(`--keep: still running. Dashboard: ${dashboard?.url}  (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
  }
} catch (error) {
  console.error(error);
} finally {
  await tearDown().catch((error) => console.error("teardown failed:", error));
}
process.exit(ok ? 0 : 1);
