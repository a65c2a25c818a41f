#!/usr/bin/env node
// Where do the pickup and await milliseconds go? Times each step of one
// job's way through durable-async on its own, on the same server, in one
// process (no worker, no IPC), and prints the p50 of each next to the
// end-to-end pickup and await p50 measured with real worker processes
// (lib/workloads.mjs) in the same run. bench/NOTES.md reads the result.
//
//   node bench/latency.mjs [--samples=200]        (DATABASE_URL or an embedded server)
import os from "node:os";
import pg from "pg";
import { startPostgres, startRedis } from "./lib/services.mjs";
import { distUrl, snapshotDist } from "./lib/dist.mjs";
import { latencySummary, nowMs } from "./lib/clock.mjs";
import * as workloads from "./lib/workloads.mjs";

const samples = Number(process.argv.find((a) => a.startsWith("--samples="))?.split("=")[1] ?? 200);
const log = (m) => process.stderr.write(`${m}\n`);
const dropSnapshot = snapshotDist();
const server = await startPostgres(log);
const redis = await startRedis(log);
const env = { pgUrl: server.url, redis: redis ? { host: redis.host, port: redis.port } : null };
const load = [os.loadavg()[0]];

const { DurableInstance } = await import(distUrl("src/index.js"));
const { fetchJobs } = await import(distUrl("src/runner/queries.js"));
// The runner's own writer of outcomes, so this follows its statement as it changes.
const { PgOutcomeStore } = await import(distUrl("src/runner/outcome-store.js"));
const { noop } = await import("./tasks.mjs");
const SCHEMA = "bench_latency";
const Q = `"${SCHEMA}"`;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const admin = new pg.Pool({ connectionString: env.pgUrl, max: 2 });
await admin.query(`drop schema if exists ${Q} cascade`);
const api = new DurableInstance({ database: env.pgUrl, schema: SCHEMA, run: false, logger: quiet, handleSignals: false });
await api.start();
const channels = api.channels;
const listener = new pg.Client({ connectionString: env.pgUrl });
await listener.connect();
let onNotice = () => undefined;
listener.on("notification", () => onNotice(nowMs()));
await listener.query(`listen "${channels.insert}"`);
await listener.query(`listen "${channels.done}"`);
const pool = api.pool;
const named = (name, text, values) => ({ name: `latency-${name}`, text, values });
// The runner's writer, with the schema's notify key: small results ride the done notification.
const { loadNotifyKey } = await import(distUrl("src/db/carried-results.js"));
const outcomes = new PgOutcomeStore(pool, Q, "latency-node", channels.done, channels.insert, await loadNotifyKey(pool, Q, quiet));
const noticeAfter = () => new Promise((resolve) => (onNotice = resolve));

process.on("uncaughtException", async (error) => {
  console.error(error);
  await redis?.stop();
  await server.stop();
  dropSnapshot();
  process.exit(1);
});

const steps = {
  "round trip (select 1)": [],
  "enqueue: insert + commit (WAL flush)": [],
  "  + NOTIFY delivered to a listener": [],
  "claim statement (commit without flush)": [],
  "completion statement + commit (WAL flush)": [],
  "  + done NOTIFY delivered": [],
  "result read (when the notice carries none)": [],
};
const keys = [`${noop.id}:${noop.hash}`];
for (let i = 0; i < samples + 10; i++) {
  const keep = i >= 10;
  let t = nowMs();
  await pool.query("select 1");
  if (keep) steps["round trip (select 1)"].push(nowMs() - t);
  const inserted = noticeAfter();
  t = nowMs();
  const handle = await api.async(noop, { seq: i });
  const committed = nowMs();
  const delivered = await inserted;
  if (keep) steps["enqueue: insert + commit (WAL flush)"].push(committed - t), steps["  + NOTIFY delivered to a listener"].push(delivered - t);
  t = nowMs();
  const { rows } = await pool.query(named("claim", fetchJobs(Q), ["ad_hoc_worker", keys, 1, "latency-node", 1 << 20]));
  if (keep) steps["claim statement (commit without flush)"].push(nowMs() - t);
  if (rows[0]?.id !== handle.id) throw new Error(`claimed ${rows[0]?.id}, expected ${handle.id}`);
  const done = noticeAfter();
  t = nowMs();
  await outcomes.write([{ job: rows[0], outcome: { kind: "completed", result: String(i) }, startedAt: 0 }]);
  const recorded = nowMs();
  const doneAt = await done;
  if (keep) steps["completion statement + commit (WAL flush)"].push(recorded - t), steps["  + done NOTIFY delivered"].push(doneAt - t);
  t = nowMs();
  await pool.query(named("read", `select id::text, state, result, errors->-1 as last_error from ${Q}.jobs where id = $1`, [handle.id]));
  if (keep) steps["result read (when the notice carries none)"].push(nowMs() - t);
}
await listener.end();
await api.stop();
await admin.query(`drop schema if exists ${Q} cascade`);
await admin.end();
load.push(os.loadavg()[0]);

log("end to end, with worker processes (lib/workloads.mjs):");
const system = { ...(await import("./systems/durable.mjs")), file: "durable" };
const pickup = await workloads.pickup(system, env, samples, log);
const awaited = await workloads.awaitRoundTrip(system, env, samples, log);
let bull = null;
if (redis) {
  const b = { ...(await import("./systems/bullmq.mjs")), file: "bullmq" };
  bull = { pickup: await workloads.pickup(b, env, samples, log), await: await workloads.awaitRoundTrip(b, env, samples, log) };
}
load.push(os.loadavg()[0]);

const p50 = (list) => latencySummary(list).p50;
const f = (x) => x.toFixed(2).padStart(6);
console.log(`\n${server.description}; ${samples} samples per step; 1-min load ${load.map((l) => l.toFixed(1)).join(" / ")} (start / middle / end)\n`);
console.log("step (one process, sequential)                  p50 ms");
for (const [name, list] of Object.entries(steps)) console.log(`${name.padEnd(48)}${f(p50(list))}`);
const sum = (...names) => names.reduce((a, n) => a + p50(steps[n]), 0);
const pickupFloor = sum("  + NOTIFY delivered to a listener", "claim statement (commit without flush)");
// Small results ride the done notification (src/db/carried-results.ts): no read on the path.
const awaitFloor = pickupFloor + sum("  + done NOTIFY delivered");
console.log(`\npickup floor (insert..NOTIFY, claim)            ${f(pickupFloor)}   measured ${f(pickup.p50)}   (rest: event loops, IPC)`);
console.log(`await floor (+ completion..done NOTIFY)         ${f(awaitFloor)}   measured ${f(awaited.p50)}`);
if (bull) console.log(`BullMQ in the same run: pickup ${bull.pickup.p50.toFixed(2)}, await ${bull.await.p50.toFixed(2)} ms`);
await redis?.stop();
await server.stop();
dropSnapshot();
