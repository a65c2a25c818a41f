// What per-key concurrency costs: 10,000 jobs over 1,000 keys (limit 1)
// against 10,000 jobs without a key, in the same queue layout.
//
// 1. The claim alone: claims of `batch` jobs until the queue is empty; each
//    claimed batch is marked completed at once (untimed), which frees its
//    keys, so only the claim itself is on the clock.
// 2. End to end: one node at concurrency 20 drains no-op jobs.
//
//   npm run build && DATABASE_URL=postgres://… node bench/key-claim.mjs [rounds]
import pg from "pg";
import { distUrl } from "./lib/dist.mjs";

const { DurableInstance, __durableTask } = await import(distUrl("src/index.js"));
const { PgJobSource } = await import(distUrl("src/runner/job-source.js"));
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const rounds = Number(process.argv[2] ?? 2);
const JOBS = 10_000;
const KEYS = 1_000;
const SCHEMA = "bench_key_claim";
const Q = "ad_hoc_worker";
const quiet = { debug() {}, info() {}, warn() {}, error: console.error };

let done = 0;
let allDone = () => undefined;
const noop = __durableTask({
  id: "bench#key-noop", hash: "key-noop-v1", caller: { file: "bench/key-claim.mjs", fn: null, line: 1, column: 1 },
  source: "() => undefined", captures: ["i"], kind: "async", run: () => void (++done === JOBS && allDone()),
});
const options = (keyed, i) => (keyed ? { concurrency: { key: `customer-${i % KEYS}`, limit: 1 } } : undefined);

async function fresh() {
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  await admin.query(`drop schema if exists ${SCHEMA} cascade`);
  await admin.end();
  const api = new DurableInstance({ database: url, schema: SCHEMA, run: false, logger: quiet, handleSignals: false });
  await api.start();
  return api;
}

async function fill(api, keyed) {
  for (let i = 0; i < JOBS; i += 5_000) {
    await api.asyncMany(Array.from({ length: 5_000 }, (_, k) => [noop, { i: i + k }, options(keyed, i + k)]));
  }
  await api.pool.query(`vacuum analyze "${SCHEMA}".jobs_active`);
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function claimOnly(keyed, batch) {
  const api = await fresh();
  await fill(api, keyed);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const source = new PgJobSource(pool, `"${SCHEMA}"`, Q, "bench-node", 64 * 1024 * 1024);
  const control = { paused: false, concurrency: null, globalConcurrency: null, rateLimit: null };
  const keys = [`${noop.id}:${noop.hash}`];
  const times = [];
  let claimed = 0;
  const started = performance.now();
  for (;;) {
    const t0 = performance.now();
    const { jobs } = await source.claim(batch, keys, control);
    times.push(performance.now() - t0);
    if (jobs.length === 0) break;
    claimed += jobs.length;
    await pool.query(`update "${SCHEMA}".jobs set state = 'completed', completed_at = now(), finished_at = now(), node_id = null where id = any($1::bigint[]) and state = 'executing'`, [jobs.map((j) => j.id)]);
  }
  const totalS = (performance.now() - started) / 1000;
  await pool.end();
  await api.stop();
  times.sort((a, b) => a - b);
  return { claimed, claims: times.length, medianMs: percentile(times, 0.5), p95Ms: percentile(times, 0.95), totalS };
}

async function drain(keyed) {
  const api = await fresh();
  await fill(api, keyed);
  done = 0;
  const finished = new Promise((resolve) => (allDone = resolve));
  const started = performance.now();
  const node = new DurableInstance({ database: url, schema: SCHEMA, logger: quiet, handleSignals: false, queues: { [Q]: 20 } });
  await node.start();
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await node.stop();
  await api.stop();
  return JOBS / seconds;
}

const fmt = (n, d = 2) => n.toFixed(d);
for (let r = 1; r <= rounds; r++) {
  for (const batch of [10, 50]) {
    const plain = await claimOnly(false, batch);
    const keyed = await claimOnly(true, batch);
    console.log(`round ${r} claim of ${batch}: plain median ${fmt(plain.medianMs)} ms p95 ${fmt(plain.p95Ms)} ms (${plain.claims} claims, ${fmt(plain.totalS)} s incl. completions); ` +
      `keyed median ${fmt(keyed.medianMs)} ms p95 ${fmt(keyed.p95Ms)} ms (${keyed.claims} claims, ${fmt(keyed.totalS)} s); ${plain.claimed}/${keyed.claimed} jobs`);
  }
  const plainRate = await drain(false);
  const keyedRate = await drain(true);
  console.log(`round ${r} drain, 1 node × 20: plain ${fmt(plainRate, 0)} jobs/s, keyed (1,000 keys, limit 1) ${fmt(keyedRate, 0)} jobs/s (${fmt(keyedRate / plainRate)}×)`);
}
