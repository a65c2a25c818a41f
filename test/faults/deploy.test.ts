import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dedicatedServer, report, until, type FaultServer } from "./harness.js";
import { fetchJobs } from "../../src/runner/queries.js";

// A rolling deploy, bounded: three v1 workers under a steady load, three v2
// workers start (v2 adds a task, changes one body, renames one capture), v1
// is drained and stopped gracefully. Every job runs exactly once, on a node
// of a build that has its task at that version; jobs of the renamed capture
// recorded by v1 run on v1 while it lives, and those enqueued after it left
// are held, then discarded with a reason naming the version. The claim's
// cost is sampled throughout (a v2 node's claim of 10, its server-side
// execution time, rolled back) and reported per phase.

const dist = inject("faultDist");
process.env.DURABLE_FAULT_DIST = dist;
const WORKER = join(import.meta.dirname, "deploy-worker.mjs");
const { v1, v2 } = await import(new URL("../support/deploy-app.mjs", import.meta.url).href);
type Version = { id: string; hash: string; captures: string[] };

let server: FaultServer;
beforeAll(async () => {
  server = await dedicatedServer();
});
afterAll(async () => {
  await server?.stop();
});
const url = () => process.env.DATABASE_URL ?? server.url;

interface Worker {
  name: string;
  build: string;
  child: ChildProcess;
  nodeId: string;
  warnings: string[];
  infos: string[];
  stopped: Promise<void>;
}

function spawnWorker(name: string, build: string, schema: string, problems: string[]): Promise<Worker> {
  const child = fork(WORKER, [], {
    env: { ...process.env, FAULT_DB_URL: url(), FAULT_RECORD_URL: url(), FAULT_SCHEMA: schema, FAULT_WORKER: name, DEPLOY_BUILD: build, DURABLE_FAULT_DIST: dist },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-10_000)));
  child.stdout!.resume();
  const worker: Worker = { name, build, child, nodeId: "", warnings: [], infos: [], stopped: new Promise((r) => child.once("exit", () => r())) };
  child.on("message", (m: any) => {
    if (m.type === "log" && m.level === "warn") worker.warnings.push(m.msg);
    if (m.type === "log" && m.level === "info") worker.infos.push(m.msg);
  });
  child.on("exit", (code, signal) => {
    if (code !== 0) problems.push(`${name} exited with ${code ?? signal}: ${stderr.slice(-2_000)}`);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${stderr}`)), 60_000);
    child.on("message", (m: any) => {
      if (m.type !== "ready") return;
      clearTimeout(timer);
      worker.nodeId = m.nodeId;
      resolve(worker);
    });
  });
}

/** Inserts jobs as a process of that build would: its task id, body hash and capture names. */
async function enqueue(pool: pg.Pool, q: string, version: Version, from: number, count: number): Promise<void> {
  await pool.query(
    `insert into ${q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures)
     select 'available', 'ad_hoc_worker', $1, $2, 5, 30000, json_build_object('json', json_build_object($3::text, g))
     from generate_series($4::int, $5::int) g`,
    [version.id, version.hash, version.captures[0], from, from + count - 1],
  );
  await pool.query(`select pg_notify($1, 'ad_hoc_worker')`, [`${q.slice(1, -1)}.insert`]).catch(() => undefined);
}

describe("fault suite: rolling deploy", () => {
  it("v1 → v2 under load: every job once on a node that has its task; renamed-capture jobs run by v1, then held and discarded with a reason", async () => {
    const schema = `fault_deploy_${process.pid}`;
    const q = `"${schema}"`;
    const pool = new pg.Pool({ connectionString: url(), max: 6 });
    pool.on("error", () => undefined);
    const problems: string[] = [];
    const workers: Worker[] = [];
    const { DurableInstance } = await import(new URL("src/index.js", dist).href);
    await pool.query(`drop schema if exists ${q} cascade`);
    const admin = new DurableInstance({ database: url(), schema, run: false, handleSignals: false, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    await admin.start();
    await pool.query(`create table ${q}.deploy_executions (seq bigserial primary key, job_id bigint not null, attempt int not null, worker text not null, build text not null, task text not null, at timestamptz not null default clock_timestamp())`);
    const claimMs: Record<string, number[]> = { "v1 only": [], "v1 + v2": [], "v2 only": [] };
    let phase = "v1 only";
    let sampling = true;
    // A v2 node's claim of 10, rolled back: what it costs in each phase of the deploy.
    const v2Keys = Object.values(v2 as Record<string, Version>).map((v) => `${v.id}:${v.hash}`).concat(`${v1.bill.id}:${v1.bill.hash}`);
    const sampler = (async () => {
      const client = await pool.connect();
      try {
        while (sampling) {
          await client.query("begin");
          // The server's execution time, so the numbers are the claim's and not this busy process's scheduling.
          const { rows } = await client.query(`explain (analyze, format json) ${fetchJobs(q)}`, ["ad_hoc_worker", v2Keys, 10, "claim-probe", 1_000_000]);
          claimMs[phase]!.push(rows[0]["QUERY PLAN"][0]["Execution Time"]);
          await client.query("rollback");
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        client.release();
      }
    })();
    let passed = false;
    try {
      for (const i of [1, 2, 3]) workers.push(await spawnWorker(`v1-w${i}`, "v1", schema, problems));
      let n = 0;
      const load = async (versions: Version[], rounds: number) => {
        for (let r = 0; r < rounds; r++) {
          for (const v of versions) await enqueue(pool, q, v, n, 20);
          n += 20;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      await load([v1.send, v1.bill, v1.notify], 15);

      phase = "v1 + v2";
      for (const i of [1, 2, 3]) workers.push(await spawnWorker(`v2-w${i}`, "v2", schema, problems));
      // Old API processes still enqueue v1's versions while the new ones enqueue v2's.
      await load([v1.send, v1.bill, v1.notify, v2.bill, v2.notify, v2.audit], 15);
      const builds = await admin.nodes.builds();
      expect(builds.filter((b: any) => b.build !== null).map((b: any) => [b.build, b.nodes.length]).sort()).toEqual([["v1", 3], ["v2", 3]]);

      // Drain v1: new work the v2 nodes can run goes to them; v1 empties what only it can run.
      expect(await admin.nodes.drain("v1")).toBe(3);
      const v1Workers = workers.filter((w) => w.build === "v1");
      await until("every v1 node knows it is drained", () => v1Workers.every((w) => w.infos.some((m) => m.includes("build is drained"))), 10_000);
      const drainedFrom = n;
      await load([v2.send, v2.bill, v2.notify, v2.audit], 10);
      await until("no pending job needs only v1", async () => (await admin.nodes.builds()).find((b: any) => b.build === "v1")?.jobsOnlyItRuns === 0, 60_000, 250);
      const stopAt = Date.now();
      for (const w of workers.filter((w) => w.build === "v1")) w.child.send({ type: "stop" });
      await Promise.all(workers.filter((w) => w.build === "v1").map((w) => w.stopped));
      const stopMs = Date.now() - stopAt;

      phase = "v2 only";
      // A v1 API process still up after its workers left: its renamed-capture jobs wait, then go with a reason.
      const late = n;
      await enqueue(pool, q, v1.notify, late, 5);
      n += 5;
      await load([v2.send, v2.bill, v2.notify, v2.audit], 5);
      await until("every job finished", async () => (await pool.query(`select count(*)::int as n from ${q}.jobs_active`)).rows[0].n === 0, 120_000, 250);

      const one = async (sql: string) => (await pool.query(sql)).rows[0];
      const totals = await one(`select count(*)::int as total, count(*) filter (where state = 'completed')::int as completed, count(*) filter (where state = 'discarded')::int as discarded from ${q}.jobs`);
      const discarded = (await pool.query(`select task_id, body_hash, (captures->'json'->>'n')::int as n, errors->-1->>'message' as message from ${q}.jobs where state = 'discarded'`)).rows;
      const perJob = await one(`select count(*) filter (where c > 1)::int as more_than_once, count(*)::int as executed from (select job_id, count(*) as c from ${q}.deploy_executions group by job_id) x`);
      const neverRan = await one(`select count(*)::int as n from ${q}.jobs j where j.state = 'completed' and not exists (select 1 from ${q}.deploy_executions e where e.job_id = j.id)`);
      // A job ran on a build that has its task at that version (v1 runs bill-0002 too: same capture names).
      const wrongBuild = await one(`select count(*)::int as n from ${q}.deploy_executions e join ${q}.jobs j on j.id = e.job_id
        where (j.task_id = 'deploy#audit' and e.build <> 'v2') or (j.body_hash = 'notify-0001' and e.build <> 'v1') or (j.body_hash = 'notify-0002' and e.build <> 'v2')`);
      const notifyV1 = await one(`select count(*) filter (where e.build = 'v1')::int as on_v1, count(*)::int as total from ${q}.jobs j left join ${q}.deploy_executions e on e.job_id = j.id where j.body_hash = 'notify-0001' and j.state = 'completed'`);
      const byBuild = (await pool.query(`select build, count(*)::int as n from ${q}.deploy_executions group by build order by build`)).rows;
      const afterDrainOnV1 = await one(`select count(*)::int as n from ${q}.deploy_executions e join ${q}.jobs j on j.id = e.job_id where e.build = 'v1' and j.body_hash in ('send-0001', 'bill-0002', 'notify-0002', 'audit-0002') and coalesce(j.captures->'json'->>'n', j.captures->'json'->>'id')::int >= ${drainedFrom}`);
      const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
      const v2Warnings = workers.filter((w) => w.build === "v2").flatMap((w) => w.warnings).filter((m) => m.includes("notify-0001"));
      report("deploy: v1 (3 workers) → v2 (3 workers), drain v1, stop v1", {
        jobs: totals.total, completed: totals.completed, discarded: totals.discarded, executedMoreThanOnce: perJob.more_than_once,
        completedWithoutExecution: neverRan.n, ranOnABuildWithoutTheTask: wrongBuild.n, notifyV1CompletedOnV1: `${notifyV1.on_v1}/${notifyV1.total}`,
        executionsByBuild: Object.fromEntries(byBuild.map((r) => [r.build, r.n])), v1StopMs: stopMs,
        claimMsMedian: Object.fromEntries(Object.entries(claimMs).map(([k, xs]) => [k, Number(median(xs).toFixed(2))])),
        claimMsMax: Object.fromEntries(Object.entries(claimMs).map(([k, xs]) => [k, Number(Math.max(...xs).toFixed(2))])),
        claimSamples: Object.fromEntries(Object.entries(claimMs).map(([k, xs]) => [k, xs.length])), unexpectedExits: problems,
      });
      expect(problems).toEqual([]);
      expect(perJob.more_than_once).toBe(0);
      expect(neverRan.n).toBe(0);
      expect(wrongBuild.n).toBe(0);
      expect(notifyV1.on_v1).toBe(notifyV1.total);
      expect(notifyV1.total).toBe(15 * 20 + 15 * 20);
      expect(totals.completed + totals.discarded).toBe(totals.total);
      // Only the late renamed-capture jobs are discarded, each saying which version no node runs.
      expect(discarded.map((r) => r.n).sort((a, b) => a - b)).toEqual([late, late + 1, late + 2, late + 3, late + 4]);
      for (const r of discarded) expect(r.message).toMatch(/^No running node runs version notify-0001 of task "deploy#notify".*other capture names \(recorded: n\)/);
      expect(v2Warnings.length).toBeGreaterThanOrEqual(1);
      expect(afterDrainOnV1.n).toBe(0);
      passed = true;
    } finally {
      sampling = false;
      await sampler.catch(() => undefined);
      for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
      await admin.stop({ grace: 0 }).catch(() => undefined);
      if (passed) await pool.query(`drop schema if exists ${q} cascade`).catch(() => undefined);
      await pool.end();
    }
  });
});
