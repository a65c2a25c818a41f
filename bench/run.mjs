#!/usr/bin/env node
// durable-async benchmark: the same five workloads on durable-async,
// graphile-worker, pg-boss and BullMQ, on one Postgres (and one redis-server)
// in the same run. See bench/RESULTS.md for figures and bench/NOTES.md for
// the method and the profiling notes.
//
//   node bench/run.mjs                      full run (~5-8 min on 2 cores)
//   node bench/run.mjs --quick              smoke run (~1 min)
//   node bench/run.mjs --only=drain,pickup  some workloads: single,concurrent,bulk,unique,drain,pickup,await
//   node bench/run.mjs --systems=durable,bullmq
//   node bench/run.mjs --json=out.json      also write the figures as JSON
//   node bench/run.mjs --markdown=out.md    also write the report as a markdown snippet
import { writeFileSync } from "node:fs";
import os from "node:os";
import { spawnSync } from "node:child_process";
import { startPostgres, startRedis } from "./lib/services.mjs";
import * as workloads from "./lib/workloads.mjs";
import { formatReport } from "./lib/report.mjs";
import { snapshotDist } from "./lib/dist.mjs";
import { liveChildren } from "./lib/children.mjs";
import { latencySummary, median } from "./lib/clock.mjs";

const WORKLOADS = ["single", "concurrent", "bulk", "unique", "drain", "pickup", "await"];
const SYSTEMS = ["durable", "graphile", "pgboss", "bullmq"];

function parseArgs(argv) {
  const args = { quick: false, only: WORKLOADS, systems: SYSTEMS, json: null, markdown: null };
  for (const arg of argv) {
    const [key, value] = arg.split("=");
    if (key === "--quick") args.quick = true;
    else if (key === "--only") args.only = value.split(",");
    else if (key === "--systems") args.systems = value.split(",");
    else if (key === "--json") args.json = value;
    else if (key === "--markdown") args.markdown = value;
    else if (key === "--help" || key === "-h") {
      console.log("usage: node bench/run.mjs [--quick] [--only=single,concurrent,bulk,unique,drain,pickup,await] [--systems=durable,graphile,pgboss,bullmq] [--json=file] [--markdown=file]");
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  for (const w of args.only) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload "${w}"; expected one of ${WORKLOADS.join(", ")}`);
  for (const s of args.systems) if (!SYSTEMS.includes(s)) throw new Error(`unknown system "${s}"; expected one of ${SYSTEMS.join(", ")}`);
  return args;
}

const SIZES = {
  full: { reps: 3, singleJobs: 1_000, concurrentJobs: 5_000, bulkJobs: 20_000, bulkBatch: 1_000, uniqueJobs: 10_000, drainJobs: 10_000, drainLimitMs: 120_000, pickup: 300, await: 300, pollingPeerSamples: 40, pollingPeerDrainJobs: 3_000 },
  quick: { reps: 1, singleJobs: 200, concurrentJobs: 1_000, bulkJobs: 2_000, bulkBatch: 1_000, uniqueJobs: 1_000, drainJobs: 1_000, drainLimitMs: 60_000, pickup: 20, await: 20, pollingPeerSamples: 5, pollingPeerDrainJobs: 500 },
};

const args = parseArgs(process.argv.slice(2));
const size = args.quick ? SIZES.quick : SIZES.full;
const log = (m) => process.stderr.write(`${m}\n`);
const started = Date.now();
// Other work on the machine skews every figure; record the load while we run.
const loads = [];
const roundLoads = [];
const loadTimer = setInterval(() => loads.push(os.loadavg()[0]), 5_000);
loadTimer.unref();

const dropSnapshot = snapshotDist();
const git = (args) => {
  const r = spawnSync("git", args, { cwd: new URL("..", import.meta.url), encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "";
};
// The bench measures dist/ as it is at its start, which may include uncommitted work.
const dirty = git(["status", "--porcelain", "--", "src", "migrations"]) !== "";
let pgServer = null;
let redis = null;
const cleanup = async () => {
  for (const child of liveChildren) child.kill("SIGKILL");
  await redis?.stop();
  await pgServer?.stop();
  dropSnapshot();
};
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    log(`${signal}: stopping the bench's servers and workers`);
    void cleanup().finally(() => process.exit(130));
  });
}
pgServer = await startPostgres(log);
redis = args.systems.includes("bullmq") ? await startRedis(log) : null;
{
  const pg = (await import("pg")).default;
  const c = new pg.Client({ connectionString: pgServer.url });
  await c.connect();
  const { rows } = await c.query("select current_setting('server_version') as v, current_setting('fsync') as f, current_setting('synchronous_commit') as s");
  pgServer.description += `, PostgreSQL ${rows[0].v}, fsync=${rows[0].f}, synchronous_commit=${rows[0].s}`;
  await c.end();
}
const env = { pgUrl: pgServer.url, redis: redis ? { host: redis.host, port: redis.port } : null };
const results = {};
const skipped = {};

try {
  const systems = [];
  for (const file of args.systems) {
    const system = { ...(await import(`./systems/${file}.mjs`)), file };
    const ok = system.available(env);
    if (ok === true) systems.push(system);
    else {
      skipped[system.name] = ok;
      log(`${system.name}: skipped: ${ok}`);
    }
  }
  // Rounds, not one system after another: each round runs every system once,
  // so a burst of other work on the machine lands on all of them alike, and
  // each figure is the median over rounds spread across the whole run.
  const runs = Object.fromEntries(systems.map((s) => [s.name, { single: [], conc4: [], conc32: [], bulk: [], plain: [], unique: [], uniqueWorks: null, drain1: [], drain2: [], pickup: [], await: [] }]));
  const one = { ...size, reps: 1 };
  for (let round = 0; round < size.reps; round++) {
    roundLoads.push(os.loadavg()[0]);
    // The order rotates each round: on a fresh server the first system of the
    // first round also pays for creating WAL segments (later ones recycle
    // them), and no system should always be the one that does.
    const order = systems.map((_, i) => systems[(i + round) % systems.length]);
    for (const system of order) {
      log(`${system.name} (round ${round + 1} of ${size.reps}):`);
      const r = runs[system.name];
      // pg-boss polls (>= 500 ms) for new work, so each of its single-job samples costs ~0.25-0.5 s.
      const samples = (n) => Math.ceil((system.pollsForWork ? Math.min(n, size.pollingPeerSamples) : n) / size.reps);
      if (args.only.includes("single")) r.single.push((await workloads.enqueueRate(system, env, one, 1, log)).rate);
      if (args.only.includes("concurrent")) {
        r.conc4.push((await workloads.enqueueRate(system, env, one, 4, log)).rate);
        r.conc32.push((await workloads.enqueueRate(system, env, one, 32, log)).rate);
      }
      if (args.only.includes("bulk")) r.bulk.push((await workloads.bulkInsert(system, env, one, log)).rate);
      if (args.only.includes("unique") && system.uniqueWorks && r.uniqueWorks !== false) {
        const u = await workloads.uniqueInsert(system, env, one, log);
        r.uniqueWorks = u.works;
        if (u.works) r.plain.push(u.plain), r.unique.push(u.unique);
      }
      if (args.only.includes("drain")) {
        // pg-boss drains an order of magnitude slower; fewer jobs keep the run under ~10 minutes.
        const drainSize = system.pollsForWork ? { ...one, drainJobs: size.pollingPeerDrainJobs } : one;
        r.drain1.push((await workloads.drain(system, env, drainSize, 1, 10, log)).rate);
        r.drain2.push((await workloads.drain(system, env, drainSize, 2, 10, log)).rate);
      }
      if (args.only.includes("pickup")) r.pickup.push(...(await workloads.pickup(system, env, samples(size.pickup), log)).samples);
      if (args.only.includes("await") && system.hasAwait) r.await.push(...(await workloads.awaitRoundTrip(system, env, samples(size.await), log)).samples);
    }
  }
  const rate = (list) => (list.length ? { rate: median(list), runs: list } : undefined);
  for (const system of systems) {
    const r = runs[system.name];
    results[system.name] = {
      single: rate(r.single),
      conc4: rate(r.conc4),
      conc32: rate(r.conc32),
      bulk: rate(r.bulk),
      unique: r.uniqueWorks === null ? undefined : r.uniqueWorks ? { works: true, plain: median(r.plain), unique: median(r.unique), runs: { plain: r.plain, unique: r.unique } } : { works: false },
      drain1: rate(r.drain1),
      drain2: rate(r.drain2),
      pickup: r.pickup.length ? latencySummary(r.pickup) : undefined,
      await: r.await.length ? latencySummary(r.await) : undefined,
    };
    const x = results[system.name];
    log(`${system.name}: bulk ${x.bulk?.runs.map(Math.round).join("/") ?? "-"}; drain 1×10 ${x.drain1?.runs.map(Math.round).join("/") ?? "-"}; 2×10 ${x.drain2?.runs.map(Math.round).join("/") ?? "-"} jobs/s`);
  }
} catch (error) {
  await cleanup();
  throw error;
}

const machine = {
  build: `${git(["rev-parse", "--short", "HEAD"]) || "?"}${dirty ? " + uncommitted changes in src/ or migrations/" : ""}`,
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}`,
  memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  postgres: pgServer.description,
  mode: args.quick ? "quick" : "full",
  seconds: Math.round((Date.now() - started) / 1000),
  load: loads.length ? { mean: loads.reduce((a, b) => a + b, 0) / loads.length, max: Math.max(...loads), rounds: roundLoads } : null,
};
clearInterval(loadTimer);
const report = formatReport({ results, skipped, machine, size, args });
console.log(report);
if (args.json) writeFileSync(args.json, JSON.stringify({ machine, size, results, skipped }, null, 2));
if (args.markdown) {
  const command = `node bench/run.mjs ${process.argv.slice(2).filter((a) => !a.startsWith("--markdown")).join(" ")}`.trim();
  writeFileSync(args.markdown, `Command: \`${command}\`${process.env.DATABASE_URL ? " (with DATABASE_URL set)" : ""}, ${new Date().toISOString()}\n\n\`\`\`\n${report.trim()}\n\`\`\`\n`);
}
await cleanup();
