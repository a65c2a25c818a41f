import { describe, expect, it } from "vitest";
import { quietLogger, testDatabase } from "../../support/db.js";
import { DurableEmitter } from "../../../src/events/index.js";
import { unknownTasksService } from "../../../src/runner/maintenance/unknown-tasks.js";
import { taskRefreshService } from "../../../src/runner/maintenance/task-refresh.js";
import { cancelledJobsService } from "../../../src/runner/maintenance/cancelled-jobs.js";
import { pollerService } from "../../../src/runner/maintenance/poller.js";
import { maintenanceServices } from "../../../src/runner/maintenance/index.js";
import { discardUnknownTasks } from "../../../src/runner/queries.js";

describe("task maintenance", () => {
  it("unknown tasks: a due job no live node can run is discarded after the grace, naming the task; one a node has is kept", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    await db.pool.query(`insert into ${db.q}.nodes (node_id, node_types, queues, task_ids, hostname, pid, lease_expires_at)
      values ('n', '{worker}', '{"ad_hoc_worker": 1}', '{known#0}', 'h', 1, now() + interval '1 hour')`);
    const insert = (task: string) =>
      db.pool.query(`insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, run_at)
        values ('available', 'ad_hoc_worker', $1, 'h', 1, 1000, '{"json":{}}', now() - interval '1 hour') returning id::text`, [task]);
    const gone = (await insert("gone#0")).rows[0].id;
    const known = (await insert("known#0")).rows[0].id;
    const events = new DurableEmitter();
    const discarded: Array<{ id: string; task: string }> = [];
    events.on("job:discard-unknown", (e) => discarded.push(...e.jobs));
    const warnings: string[] = [];
    const logger = { ...quietLogger, warn: (m: string) => void warnings.push(m) };
    await unknownTasksService({ pool: db.pool, quotedSchema: db.q, intervalMs: 100, graceMs: 1_000, events, logger }).run();
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^durable: job ${gone} discarded after attempt 0: No running node has task "gone#0"`))]);
    expect(discarded).toEqual([{ id: gone, task: "gone#0" }]);
    const { rows } = await db.pool.query(`select id::text, state from ${db.q}.jobs order by id`);
    expect(rows).toEqual([{ id: gone, state: "discarded" }, { id: known, state: "available" }]);
  });

  it("unknown tasks: a pass reads the jobs of stuck keys only, not every queued job", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    await db.pool.query(`insert into ${db.q}.nodes (node_id, node_types, queues, task_ids, hostname, pid, lease_expires_at)
      values ('n', '{worker}', '{"ad_hoc_worker": 1}', '{known#0}', 'h', 1, now() + interval '1 hour')`);
    // A deep backlog of a task a live node runs, older than the grace, and a few jobs of two tasks no node has.
    await db.pool.query(`insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, run_at)
      select 'available', 'ad_hoc_worker', t, 'h', 1, 1000, '{"json":{}}', now() - interval '1 hour'
      from generate_series(1, 20000) as i, lateral (select case when i % 5000 = 0 then 'gone#' || (i / 5000 % 2) else 'known#0' end as t) x`);
    await db.pool.query(`analyze ${db.q}.jobs_active`);
    const { rows: plan } = await db.pool.query(`explain (analyze, format json) ${discardUnknownTasks(db.q)}`, [1_000]);
    const reads: number[] = [];
    const walk = (node: any) => {
      // Rows a scan returned plus those its filter dropped: what it read.
      if (node["Relation Name"] === "jobs_active" && /Scan/.test(node["Node Type"])) reads.push((node["Actual Rows"] + (node["Rows Removed by Filter"] ?? 0)) * node["Actual Loops"]);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(plan[0]["QUERY PLAN"][0].Plan);
    // Per key (a few index descents each) and the 4 stuck jobs: nowhere near the 20,000 runnable ones.
    expect(Math.max(...reads)).toBeLessThan(50);
    const { rows } = await db.pool.query(`select task_id, state, count(*)::int as n from ${db.q}.jobs group by 1, 2 order by 1, 2`);
    expect(rows).toEqual([
      { task_id: "gone#0", state: "discarded", n: 2 },
      { task_id: "gone#1", state: "discarded", n: 2 },
      { task_id: "known#0", state: "available", n: 19_996 },
    ]);
  });

  it("the node-side passes call what they keep: task refresh, the cancel check, the poll", async () => {
    const calls: string[] = [];
    await taskRefreshService({ intervalMs: 1, refresh: async () => void calls.push("refresh") }).run();
    await cancelledJobsService({ intervalMs: 1, abortCancelled: async () => void calls.push("cancelled") }).run();
    await pollerService({ intervalMs: 1, poll: async () => void calls.push("poll") }).run();
    expect(calls).toEqual(["refresh", "cancelled", "poll"]);
  });

  it("a node runs each service at its own pace, all paced by the heartbeat but the poll and the pruner", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false, heartbeatInterval: 1_000, pollInterval: 250 });
    const node = { nodeId: "n", register: async () => {}, setDraining: async () => {}, refreshTasks: async () => {}, refreshControls: async () => {}, abortCancelled: async () => {}, heldJobs: () => [], wakeAll: () => {}, pollAll: () => {}, producers: new Map() };
    const intervals = Object.fromEntries(maintenanceServices(node, { pool: db.pool, quotedSchema: db.q, config: d.config, events: d.events }).map((s) => [s.during, s.intervalMs]));
    expect(intervals).toEqual({
      "polling for jobs": 250,
      heartbeat: 1_000,
      "rescuing jobs of dead nodes": 1_000,
      "checking for cancelled jobs": 1_000,
      "waking waiting jobs": 1_000,
      "discarding jobs past their deadline": 1_000,
      "releasing claims this node never received": 5_000,
      "checking for jobs no node can run": 5_000,
      "discarding jobs of unknown tasks": 10_000,
      "deleting dead nodes": 10_000,
      "refreshing task versions": 10_000,
      "pruning finished jobs": 60_000,
    });
  });
});
