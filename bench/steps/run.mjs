// Durable steps bench: a parent fanning out to N children on 2 worker
// processes, a chain of awaited children, inline steps, and N plain jobs on
// the same workers for comparison. Prints a markdown table.
//
//   DATABASE_URL=postgres://… node bench/steps/run.mjs [--children=1000] [--chain=200] [--concurrency=10]
import { fork } from "node:child_process";
import pg from "pg";
import { DurableInstance } from "../../dist/src/index.js";
import * as tasks from "./tasks.mjs";

const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const children = arg("children", 1000);
const chainLength = arg("chain", 200);
const concurrency = arg("concurrency", 10);
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const schema = `bench_steps_${process.pid}`;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const api = new DurableInstance({ database: url, schema, run: false, logger: quiet, handleSignals: false });
await api.start();
const workers = await Promise.all([0, 1].map(() => startWorker()));
const pool = new pg.Pool({ connectionString: url, max: 2 });

function startWorker() {
  const child = fork(new URL("./worker.mjs", import.meta.url).pathname, [schema, String(concurrency)], { env: { ...process.env, DATABASE_URL: url }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const next = (predicate) => new Promise((resolve) => { const on = (m) => predicate(m) && (child.off("message", on), resolve(m)); child.on("message", on); });
  return next((m) => m?.ready).then(() => ({ child, next }));
}

async function starts() {
  const all = await Promise.all(workers.map((w) => { const reply = w.next((m) => m?.starts); w.child.send({ stats: true }); return reply; }));
  const total = {};
  for (const { starts } of all) for (const [task, n] of Object.entries(starts)) total[task] = (total[task] ?? 0) + n;
  for (const w of workers) w.child.send({ reset: true });
  return total;
}

async function timed(label, fn) {
  const started = performance.now();
  const value = await fn();
  const ms = performance.now() - started;
  return { label, ms, value, starts: await starts() };
}

const rows = [];
await pool.query(`delete from "${schema}".jobs`);
// The baseline: the same children as plain jobs, inserted in one statement, timed until the last completes.
const plain = await timed(`${children} plain jobs (inserted in bulk, until all completed)`, async () => {
  await api.asyncMany(Array.from({ length: children }, (_, i) => [tasks.child, { n: i }]));
  for (;;) {
    const { rows: [r] } = await pool.query(`select count(*)::int as n from "${schema}".jobs where task_id = 'bench-steps#child' and state = 'completed'`);
    if (r.n >= children) return r.n;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});
rows.push({ ...plain, executions: plain.starts["bench-steps#child"], replays: "-" });
const fan = await timed(`fan-out: 1 parent, ${children} children, awaitAll`, async () => api.await(await api.async(tasks.fanOut, { count: children }), { timeout: "10m" }));
rows.push({ ...fan, executions: fan.starts["bench-steps#fanOut"], replays: fan.starts["bench-steps#fanOut"] - 1 });
const chained = await timed(`chain: ${chainLength} children awaited one by one`, async () => api.await(await api.async(tasks.chain, { count: chainLength }), { timeout: "10m" }));
rows.push({ ...chained, executions: chained.starts["bench-steps#chain"], replays: chained.starts["bench-steps#chain"] - 1 });
const inlined = await timed(`${chainLength} inline steps (durable.step)`, async () => api.await(await api.async(tasks.inline, { count: chainLength }), { timeout: "10m" }));
rows.push({ ...inlined, executions: inlined.starts["bench-steps#inline"], replays: inlined.starts["bench-steps#inline"] - 1 });

const { rows: [journal] } = await pool.query(`select count(*)::int as steps from "${schema}".steps`);
console.log(`\n2 worker processes × ${concurrency} slots, PostgreSQL at ${new URL(url).host}; ${journal.steps} journal rows written\n`);
console.log("| scenario | wall time | per job or step | parent executions | replays |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  const n = r.label.startsWith("fan-out") || r.label.startsWith(`${children} plain`) ? children : chainLength;
  console.log(`| ${r.label} | ${(r.ms / 1000).toFixed(2)} s | ${(r.ms / n).toFixed(2)} ms | ${r.executions ?? "-"} | ${r.replays} |`);
}

for (const w of workers) w.child.kill("SIGTERM");
await Promise.all(workers.map((w) => new Promise((r) => w.child.once("exit", r))));
await api.stop();
await pool.query(`drop schema "${schema}" cascade`);
await pool.end();
