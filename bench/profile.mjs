#!/usr/bin/env node
// Where does a job's time go? On a scratch Postgres with pg_stat_statements,
// runs a drain and an await round-trip series per system and prints, per
// job: the statements sent (calls/job, server ms/job) and, from a CPU
// profile of the worker process (--cpu-prof), where its CPU time went.
//
//   node bench/profile.mjs [--systems=durable,graphile] [--jobs=5000] [--samples=200]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { startPostgres } from "./lib/services.mjs";
import { snapshotDist } from "./lib/dist.mjs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";
import pg from "pg";
import * as workloads from "./lib/workloads.mjs";
import { median, nowMs } from "./lib/clock.mjs";

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback;
const systems = arg("systems", "durable,graphile").split(",");
const jobs = Number(arg("jobs", 5000));
const samples = Number(arg("samples", 200));
const log = (m) => process.stderr.write(`${m}\n`);
const dropSnapshot = snapshotDist(); // a rebuild of dist/ mid-run must not break the worker children

const server = await startPostgres(log, {
  useDatabaseUrl: false,
  settings: { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "all", "pg_stat_statements.max": "2000" },
});
const admin = new pg.Pool({ connectionString: server.url, max: 1 });
await admin.query("create extension if not exists pg_stat_statements");
const env = { pgUrl: server.url, redis: null };
const dir = mkdtempSync(join(tmpdir(), "durable-profile-"));

async function statements(perJob) {
  const { rows } = await admin.query(`
    select calls, total_exec_time as ms, rows, regexp_replace(query, '\\s+', ' ', 'g') as query
    from pg_stat_statements
    where query !~* 'pg_stat_statements|count\\(\\*\\)::int as n|^(begin|commit|rollback|set |show |select 1$)' and calls > 0
    order by calls desc`);
  return rows
    .filter((r) => r.calls >= perJob * 0.005)
    .map((r) => ({ perJob: r.calls / perJob, msPerJob: r.ms / perJob, rowsPerCall: r.rows / r.calls, query: r.query.slice(0, 110) }));
}

function printStatements(title, list) {
  console.log(`\n${title}`);
  console.log(`calls/job  server ms/job  rows/call  statement`);
  for (const s of list) console.log(`${s.perJob.toFixed(3).padStart(9)}  ${s.msPerJob.toFixed(4).padStart(13)}  ${s.rowsPerCall.toFixed(1).padStart(9)}  ${s.query}`);
  const total = list.reduce((a, s) => a + s.perJob, 0);
  const ms = list.reduce((a, s) => a + s.msPerJob, 0);
  console.log(`${total.toFixed(3).padStart(9)}  ${ms.toFixed(4).padStart(13)}             total`);
}

/**
 * Self time per function and per area from a .cpuprofile, counting only the
 * samples inside `window` (monotonic ms, as lib/clock.mjs: V8's profile
 * timestamps are CLOCK_MONOTONIC µs on Linux), so module loading and
 * start-up do not count.
 */
function summarizeProfile(file, window) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const hits = new Map();
  let t = profile.startTime;
  let counted = 0;
  let prev = t;
  let total = 0;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i];
    const dt = t - prev;
    prev = t;
    if (window && (t / 1000 < window[0] || t / 1000 > window[1])) return;
    hits.set(id, (hits.get(id) ?? 0) + dt);
    total += dt;
    counted++;
  });
  if (counted === 0) throw new Error("no profile samples inside the measured window (clock mismatch?)");
  const byFn = new Map();
  const byArea = new Map();
  const area = (url, fn) => {
    if (fn === "(idle)") return "idle";
    if (fn === "(garbage collector)") return "GC";
    if (fn === "(program)") return "V8/native (program)";
    if (url.includes("/node_modules/pg")) return "pg driver (pg, pg-protocol, ...)";
    if (url.includes("/node_modules/superjson")) return "superjson";
    if (url.includes("/dist/src/")) return "durable-async";
    if (url.includes("/node_modules/")) return `node_modules/${url.split("/node_modules/")[1].split("/")[0]}`;
    if (url.startsWith("node:") || url === "") return "node core";
    if (url.includes("/bench/")) return "bench harness";
    return "other";
  };
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const us = hits.get(node.id) ?? 0;
    if (!us) continue;
    const key = `${functionName || "(anonymous)"} ${basename(url)}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const a = area(url, functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
  }
  const busy = total - (byArea.get("idle") ?? 0);
  return { totalMs: total / 1000, samples: counted, busyMs: busy / 1000, byArea: [...byArea].sort((a, b) => b[1] - a[1]), top: [...byFn].filter(([k]) => !k.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, 15) };
}

function printProfile(title, summary, perJob) {
  console.log(`\n${title}: ${summary.totalMs.toFixed(0)} ms profiled (${summary.samples} samples in the measured window), ${summary.busyMs.toFixed(0)} ms on CPU = ${((summary.busyMs * 1000) / perJob).toFixed(0)} µs CPU per job`);
  for (const [a, us] of summary.byArea) console.log(`  ${((us / 1000 / summary.totalMs) * 100).toFixed(1).padStart(5)}%  ${a}`);
  console.log("  top self time:");
  for (const [k, us] of summary.top) console.log(`  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
}

/** The floors under every Postgres-backed latency here: a round trip, and a commit that waits for the WAL flush. */
async function commitCost() {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  await c.query("create table if not exists commit_probe (id int primary key, n int); insert into commit_probe values (1, 0) on conflict do nothing");
  const time = async (sql, n = 300) => {
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t0 = nowMs();
      await c.query(sql);
      ms.push(nowMs() - t0);
    }
    return median(ms);
  };
  const select = await time("select 1");
  const syncOn = await time("update commit_probe set n = n + 1 where id = 1");
  await c.query("set synchronous_commit = off");
  const syncOff = await time("update commit_probe set n = n + 1 where id = 1");
  await c.end();
  console.log(`\n## floors on this server (medians of 300)\nselect 1 round trip: ${select.toFixed(3)} ms; one-row update commit, synchronous_commit=on: ${syncOn.toFixed(3)} ms; =off: ${syncOff.toFixed(3)} ms`);
}

try {
  await commitCost();
  for (const file of systems) {
    const system = { ...(await import(`./systems/${file}.mjs`)), file };
    console.log(`\n## ${system.name}`);
    const profDir = join(dir, `prof-${file}`);
    const forkOptions = { execArgv: ["--cpu-prof", `--cpu-prof-dir=${profDir}`] };
    const reset = () => admin.query("select pg_stat_statements_reset()");
    const size = { reps: 1, bulkBatch: 1000, drainJobs: jobs, drainLimitMs: 300_000 };
    const d = await workloads.drain(system, env, size, 1, 10, log, { forkOptions, beforeStart: reset });
    printStatements(`drain of ${jobs} jobs, 1 process × 10 (${Math.round(d.rate)} jobs/s); worker-side statements per job:`, await statements(jobs));
    const prof = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
    if (prof) printProfile("drain worker CPU profile", summarizeProfile(join(profDir, prof), d.window), jobs);
    rmSync(profDir, { recursive: true, force: true });
    if (system.hasAwait) {
      const a = await workloads.awaitRoundTrip(system, env, samples, log, { forkOptions, beforeStart: reset });
      printStatements(`await round trip, ${samples + 5} sequential jobs (p50 ${a.p50.toFixed(2)} ms); statements per job, both sides:`, await statements(samples + 5));
      const prof2 = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
      if (prof2) printProfile("await worker CPU profile", summarizeProfile(join(profDir, prof2), a.window), samples);
    } else {
      const p = await workloads.pickup(system, env, samples, log, { forkOptions, beforeStart: reset });
      printStatements(`pickup, ${samples + 5} sequential jobs (p50 ${p.p50.toFixed(2)} ms); statements per job, both sides:`, await statements(samples + 5));
    }
  }
} finally {
  await admin.end();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  dropSnapshot();
}
