#!/usr/bin/env node
// Does the hot path stay hot at scale? On a scratch Postgres (default
// settings, fsync on), measures the runner's own claim statement (fetchJobs)
// and ack statement (recordOutcomes) and the public insert API, per job, with
//   A. 10k jobs queued,
//   B. 1M jobs queued,
//   C. 10k queued + 1M finished jobs retained,
//   D. C right after a burst of 50k claims + completions (dead tuples),
//   E. 100k due jobs of a task this node lacks ahead of its own 10k,
//   F. 100k due jobs of this node's task under a body hash it may not run
//      (a body-hash hold) ahead of its own 10k,
//   G. E for a node that claims 200 task keys (199 of them with no job),
//   H. 10k jobs spread over 5 tasks the node claims (every key has a head),
//   I. 10k queued + 50k jobs waiting on a running child (steps, `after`),
// and prints EXPLAIN (ANALYZE, BUFFERS) of the claim in each state, and what
// one pass of each database-side maintenance service costs a live node.
//
//   node bench/scale.mjs [--big=1000000] [--small=10000] [--burst=50000] [--skew=100000] [--waiting=50000] [--only=A,E,F,G,H,I]
import pg from "pg";
import { spawnSync } from "node:child_process";
import { startPostgres } from "./lib/services.mjs";
import { median, nowMs } from "./lib/clock.mjs";
import { distUrl, snapshotDist } from "./lib/dist.mjs";

const dropSnapshot = snapshotDist();
const { DurableInstance } = await import(distUrl("src/index.js"));
const { recordOutcomes, fetchJobs } = await import(distUrl("src/runner/queries.js"));
const { maintenanceServices } = await import(distUrl("src/runner/maintenance/index.js"));
const { DurableEmitter } = await import(distUrl("src/events/index.js"));
const { normalizeStartOptions } = await import(distUrl("src/config/start.js"));
const { noop } = await import("./tasks.mjs");

const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const BIG = arg("big", 1_000_000);
const SMALL = arg("small", 10_000);
const BURST = arg("burst", 50_000);
const SKEW = arg("skew", 100_000);
const WAITING = arg("waiting", 50_000);
const SCHEMA = "bench_scale";
const Q = `"${SCHEMA}"`;
const QUEUE = "ad_hoc_worker";
const KEYS = [`${noop.id}:${noop.hash}`];
const FIVE_TASKS = Array.from({ length: 5 }, (_, i) => `bench#five${i}`);
const FIVE_KEYS = FIVE_TASKS.map((t) => `${t}:${noop.hash}`);
const MANY_KEYS = [...KEYS, ...Array.from({ length: 199 }, (_, i) => `bench#absent${i}:bench-absent-v1`)];
const NODE = "scale-bench-node";
const BUDGET = 16 * 1024 * 1024;
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice(7).split(",") ?? null;
const wanted = (letter) => ONLY === null || ONLY.includes(letter);
const log = (m) => process.stderr.write(`${m}\n`);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const server = await startPostgres(log);
const url = server.url;
const pool = new pg.Pool({ connectionString: url, max: 4 });
pool.on("error", () => undefined);
await pool.query(`drop schema if exists ${Q} cascade`);
const instance = new DurableInstance({ database: url, schema: SCHEMA, run: false, logger: quiet, handleSignals: false });
await instance.start();
await instance.async(noop, { seq: 0 }); // writes the tasks row
await pool.query(`delete from ${Q}.jobs`);

const genJobs = (n, state, { task = noop.id, hash = noop.hash, runAt = "now()" } = {}) => `
insert into ${Q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, run_at, captures, result, completed_at, finished_at, attempt)
select '${state}', '${QUEUE}', '${task}', '${hash}', 20, 900000, ${runAt}, json_build_object('json', json_build_object('seq', g)),
       ${state === "completed" ? `'{"json":1}'::json, now(), now(), 1` : "null, null, null, 0"}
from generate_series(1, ${n}) g`;

async function fill(n, state) {
  const t0 = nowMs();
  for (let done = 0; done < n; done += 100_000) await pool.query(genJobs(Math.min(100_000, n - done), state));
  log(`  generated ${n.toLocaleString("en-US")} ${state} jobs in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
}

/** The runner's batched ack of claimed rows: every one completed with a null result. */
const ack = (client, name, rows) => client.query({
  name,
  text: recordOutcomes(Q),
  values: [rows.map((r) => r.id), rows.map(() => "completed"), rows.map(() => '{"json":null}'), rows.map(() => null), rows.map(() => null), NODE, `${SCHEMA}.done`, rows.map(() => null), `${SCHEMA}.insert`, null],
});

/** The runner's claim (10 at a time, as a producer with 10 free slots) and its batched ack. */
async function claimCost(keys, claims = 100, demand = 10) {
  const client = await pool.connect();
  const fetchMs = [];
  const ackMs = [];
  try {
    for (let i = 0; i < claims; i++) {
      let t0 = nowMs();
      const { rows } = await client.query({ name: `fetch-${keys.length}`, text: fetchJobs(Q), values: [QUEUE, keys, demand, NODE, BUDGET] });
      fetchMs.push(nowMs() - t0);
      t0 = nowMs();
      await ack(client, "ack", rows);
      ackMs.push(nowMs() - t0);
    }
  } finally {
    client.release();
  }
  return { fetchPerClaim: median(fetchMs), fetchPerJob: median(fetchMs) / demand, ackPerJob: median(ackMs) / demand };
}

async function insertCost() {
  let t0 = nowMs();
  for (let b = 0; b < 5; b++) await instance.asyncMany(Array.from({ length: 1000 }, (_, i) => [noop, { seq: b * 1000 + i }]));
  const bulkPerJobUs = ((nowMs() - t0) / 5000) * 1000;
  const singles = [];
  for (let i = 0; i < 200; i++) {
    t0 = nowMs();
    await instance.async(noop, { seq: i });
    singles.push(nowMs() - t0);
  }
  return { bulkPerJobUs, singleMs: median(singles) };
}

/**
 * The claim's plan, executed and rolled back. The runner sends it as a named
 * prepared statement, so after five executions Postgres may switch to the
 * generic plan: `generic` shows that one.
 */
async function explainClaim(keys, generic = false) {
  const client = await pool.connect();
  try {
    await client.query("begin");
    let rows;
    if (generic) {
      // An unnamed one-shot statement always gets a custom plan; only a
      // prepared one can be forced onto the generic plan.
      await client.query(`prepare claim_probe(text, text[], int, text, int) as ${fetchJobs(Q)}`);
      await client.query("set local plan_cache_mode = force_generic_plan");
      const lit = (v) => client.escapeLiteral(v);
      ({ rows } = await client.query(
        `explain (analyze, buffers, costs off, timing on) execute claim_probe(${lit(QUEUE)}, array[${keys.map(lit).join(",")}], 10, ${lit(NODE)}, ${BUDGET})`,
      ));
    } else {
      ({ rows } = await client.query({ text: `explain (analyze, buffers, costs off, timing on) ${fetchJobs(Q)}`, values: [QUEUE, keys, 10, NODE, BUDGET] }));
    }
    await client.query("rollback");
    if (generic) await client.query("deallocate claim_probe");
    return rows.map((r) => r["QUERY PLAN"]).join("\n");
  } finally {
    client.release();
  }
}

async function deadTuples() {
  const { rows } = await pool.query(
    `select relname, n_live_tup, n_dead_tup from pg_stat_user_tables where schemaname = $1 and relname in ('jobs_active','jobs_finished') order by relname`,
    [SCHEMA],
  );
  return rows.map((r) => `${r.relname}: ${r.n_live_tup} live, ${r.n_dead_tup} dead`).join("; ");
}

/** Memory of a worker process that runs `jobs` jobs from this queue (lib/runner-memory.mjs). */
function runnerMemory(jobs = 5_000) {
  const r = spawnSync(process.execPath, ["--expose-gc", new URL("./lib/runner-memory.mjs", import.meta.url).pathname, url, SCHEMA, String(jobs)], { encoding: "utf8", env: process.env });
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop());
  } catch {
    log(`  runner memory probe failed: ${r.stderr.slice(-500)}`);
    return null;
  }
}

/** B-D: a million queued, a million finished retained, and right after a burst. */
async function bigScenarios() {
  await pool.query(`delete from ${Q}.jobs_finished`);
  await fill(SMALL - (await pool.query(`select count(*)::int as n from ${Q}.jobs_active`)).rows[0].n, "available");
  await fill(BIG - SMALL, "available");
  await pool.query(`vacuum analyze ${Q}.jobs_active`);
  await scenario(`B: ${BIG.toLocaleString("en-US")} queued`, { generic: true });
  memory.push({ name: `${BIG.toLocaleString("en-US")} queued`, ...runnerMemory() });

  await pool.query(`truncate ${Q}.jobs_active`);
  await fill(SMALL + BURST, "available");
  await fill(BIG, "completed");
  await pool.query(`vacuum analyze ${Q}.jobs_active`);
  await pool.query(`vacuum analyze ${Q}.jobs_finished`);
  await scenario(`C: ${SMALL.toLocaleString("en-US")} queued + ${BIG.toLocaleString("en-US")} finished retained`);

  log(`  burst: claiming and completing ${BURST.toLocaleString("en-US")} jobs, 100 per statement`);
  const t0 = nowMs();
  const client = await pool.connect();
  for (let done = 0; done < BURST; done += 100) {
    const { rows } = await client.query({ name: "fetch100", text: fetchJobs(Q), values: [QUEUE, KEYS, 100, NODE, BUDGET] });
    await ack(client, "ack100", rows);
  }
  client.release();
  log(`  burst took ${((nowMs() - t0) / 1000).toFixed(1)} s`);
  await scenario(`D: C right after a burst of ${BURST.toLocaleString("en-US")} claims + completions`);
}

/**
 * Version skew: due jobs this node may not run sit at the head of the queue
 * (they wait for a node that has their task, up to unknownTaskGrace, or for
 * one whose capture names match their body hash). E: another task; F: this
 * node's task under another body hash; G: E for a node claiming 200 keys.
 */
async function skewScenarios() {
  const skewed = async (letter, name, jobs, keys) => {
    if (!wanted(letter)) return;
    await pool.query(`truncate ${Q}.jobs_active`);
    await pool.query(genJobs(SKEW, "available", { ...jobs, runAt: "now() - interval '1 hour'" }));
    await fill(SMALL, "available");
    await pool.query(`vacuum analyze ${Q}.jobs_active`);
    await scenario(`${letter}: ${SKEW.toLocaleString("en-US")} due jobs ${name} ahead of ${SMALL.toLocaleString("en-US")} of its own`, { generic: letter === "E", keys });
  };
  await skewed("E", "of a task this node lacks", { task: "other#task" }, KEYS);
  await skewed("F", "of its task under a body hash it may not run", { hash: "bench-noop-v0" }, KEYS);
  await skewed("G", "of a task a node claiming 200 task keys lacks", { task: "other#task" }, MANY_KEYS);
  if (wanted("H")) {
    await pool.query(`truncate ${Q}.jobs_active`);
    for (const task of FIVE_TASKS) await pool.query(genJobs(SMALL / 5, "available", { task }));
    await pool.query(`vacuum analyze ${Q}.jobs_active`);
    await scenario(`H: ${SMALL.toLocaleString("en-US")} queued over 5 tasks this node claims`, { keys: FIVE_KEYS });
  }
}

/** Node-side passes that send no statement of their own (or only the heartbeat's one-row update). */
const NODE_SIDE = new Set(["polling for jobs", "heartbeat", "checking for cancelled jobs", "refreshing task versions"]);

/**
 * One pass of every database-side maintenance service, as a live node serving
 * the queue with `keys` runs it (every node runs them all): ms per service.
 */
async function maintenanceCost(keys) {
  await pool.query(`insert into ${Q}.nodes (node_id, node_types, queues, task_ids, task_keys, hostname, pid, lease_expires_at)
    values ($1, '{worker}', $2::jsonb, $3, $4, 'bench', 1, now() + interval '1 hour')`,
    [NODE, JSON.stringify({ [QUEUE]: 10 }), keys.map((k) => k.slice(0, k.lastIndexOf(":"))), keys]);
  const config = normalizeStartOptions({ database: url, schema: SCHEMA, logger: quiet });
  const node = { nodeId: NODE, register: async () => {}, setDraining: async () => {}, refreshTasks: async () => {}, refreshControls: async () => {},
    abortCancelled: async () => {}, heldJobs: () => [], wakeAll() {}, pollAll() {}, producers: new Map() };
  const passes = {};
  try {
    for (const service of maintenanceServices(node, { pool, quotedSchema: Q, config, events: new DurableEmitter() })) {
      if (NODE_SIDE.has(service.during)) continue;
      // The second pass: the first also plans its statements.
      await service.run();
      const t0 = nowMs();
      await service.run();
      passes[service.during] = nowMs() - t0;
    }
  } finally {
    await pool.query(`delete from ${Q}.nodes where node_id = $1`, [NODE]);
  }
  return passes;
}

/** I: jobs waiting on a running child, as a fan-out of steps or `after` dependencies leaves them. */
async function waitingScenario() {
  if (!wanted("I")) return;
  await pool.query(`truncate ${Q}.jobs_active`);
  await fill(SMALL, "available");
  const { rows } = await pool.query(`insert into ${Q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, node_id, attempt)
    values ('executing', '${QUEUE}', '${noop.id}', '${noop.hash}', 1, 900000, '{"json":{}}', 'elsewhere', 1) returning id`);
  await pool.query(`insert into ${Q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, waiting_for)
    select 'waiting', '${QUEUE}', '${noop.id}', '${noop.hash}', 20, 900000, '{"json":{}}', array[$1::bigint] from generate_series(1, ${WAITING})`, [rows[0].id]);
  await pool.query(`vacuum analyze ${Q}.jobs_active`);
  await scenario(`I: ${SMALL.toLocaleString("en-US")} queued + ${WAITING.toLocaleString("en-US")} waiting on a running child`);
}

const results = [];
const memory = [];
async function scenario(name, { generic = false, keys = KEYS } = {}) {
  log(`scenario ${name}`);
  const explain = await explainClaim(keys);
  const explainGeneric = generic ? await explainClaim(keys, true) : null;
  const claim = await claimCost(keys);
  const tuples = await deadTuples();
  const { rows } = await pool.query(`select last_value from ${Q}.jobs_id_seq`);
  const insert = await insertCost();
  // Keep the queue at its size: drop what the insert measurement added.
  await pool.query(`delete from ${Q}.jobs where id > $1`, [rows[0].last_value]);
  const passes = await maintenanceCost(keys);
  results.push({ name, ...claim, ...insert, tuples, explain, explainGeneric, passes });
}

try {
  await fill(SMALL, "available");
  await pool.query(`vacuum analyze ${Q}.jobs_active`);
  if (wanted("A")) {
    await scenario(`A: ${SMALL.toLocaleString("en-US")} queued`);
    if (!ONLY) memory.push({ name: `${SMALL.toLocaleString("en-US")} queued`, ...runnerMemory() });
  }
  if (wanted("B") || wanted("C") || wanted("D")) await bigScenarios();
  await skewScenarios();
  await waitingScenario();
} finally {
  await instance.stop();
  await pool.query(`drop schema if exists ${Q} cascade`).catch(() => undefined);
  await pool.end();
  await server.stop();
  dropSnapshot();
}

console.log("| scenario | claim of 10: ms | fetch µs/job | ack µs/job | bulk insert µs/job | single insert ms | tuples after the claims |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
for (const r of results) {
  console.log(`| ${r.name} | ${r.fetchPerClaim.toFixed(2)} | ${(r.fetchPerJob * 1000).toFixed(0)} | ${(r.ackPerJob * 1000).toFixed(0)} | ${r.bulkPerJobUs.toFixed(1)} | ${r.singleMs.toFixed(2)} | ${r.tuples} |`);
}
const services = Object.keys(results[0]?.passes ?? {});
console.log(`\n| scenario: one maintenance pass, ms | ${services.join(" | ")} |\n| --- |${services.map(() => " ---: |").join("")}`);
for (const r of results) console.log(`| ${r.name} | ${services.map((s) => r.passes[s].toFixed(1)).join(" | ")} |`);
if (memory.length) {
  console.log("\n| a worker process (concurrency 10) runs 5,000 jobs from a queue of | jobs run | RSS after start MB | peak RSS MB | RSS at the end MB | heap after GC, start → end MB |\n| --- | ---: | ---: | ---: | ---: | --- |");
  for (const m of memory) console.log(`| ${m.name} | ${m.ran ?? "?"} | ${m.rssStart ?? "?"} | ${m.rssPeak ?? "?"} | ${m.rssEnd ?? "?"} | ${m.heapStart ?? "?"} → ${m.heapEnd ?? "?"} |`);
}
for (const r of results) {
  console.log(`\n### EXPLAIN (ANALYZE, BUFFERS) of the claim, ${r.name}\n\n\`\`\`\n${r.explain}\n\`\`\``);
  if (r.explainGeneric) console.log(`\nThe same with plan_cache_mode = force_generic_plan (what a prepared statement may switch to):\n\n\`\`\`\n${r.explainGeneric}\n\`\`\``);
}
