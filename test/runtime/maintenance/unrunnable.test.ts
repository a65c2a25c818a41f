import { describe, expect, it } from "vitest";
import { quietLogger, testDatabase } from "../../support/db.js";
import { DurableEmitter, type DurableEvents } from "../../../src/events/index.js";
import { unrunnableService, differsByPathPrefix } from "../../../src/runner/maintenance/unrunnable.js";
import { unknownTasksService } from "../../../src/runner/maintenance/unknown-tasks.js";
import { Admin } from "../../../src/admin/index.js";

// Jobs no live node can run are visible: the worker warns once per task and
// emits job:unrunnable, the operator surface says what each waits for, and
// the discard after the grace says whether the task or only its version is
// missing. A node lacking a task it has under another path prefix says so.
async function setup() {
  const db = await testDatabase();
  await db.start({ run: false });
  // A live node with "users.ts#signup#0" (hash h1) and "app#echo" (hash h-new), serving ad_hoc_worker.
  await db.pool.query(`insert into ${db.q}.nodes (node_id, node_types, queues, task_ids, task_keys, build_id, hostname, pid, lease_expires_at)
    values ('n1', '{worker}', '{"ad_hoc_worker": 1}', '{users.ts#signup#0,app#echo}', '{users.ts#signup#0:h1,app#echo:h-new}', 'v2', 'h', 1, now() + interval '1 hour')`);
  await db.pool.query(`insert into ${db.q}.tasks (task_id, body_hash, file, line, col, source, capture_names)
    values ('app#echo', 'h-old', 'src/app.ts', 3, 5, '() => echo(value)', '{value}'), ('app#echo', 'h-new', 'src/app.ts', 3, 5, '() => echo(text)', '{text}')`);
  const insert = async (task: string, hash: string, ageS = 3600) =>
    (await db.pool.query(`insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, run_at)
      values ('available', 'ad_hoc_worker', $1, $2, 1, 1000, '{"json":{}}', now() - $3 * interval '1 second') returning id::text`, [task, hash, ageS])).rows[0].id as string;
  const jobs = {
    prefixed: await insert("src/users.ts#signup#0", "h1"),
    prefixed2: await insert("src/users.ts#signup#0", "h1"),
    oldVersion: await insert("app#echo", "h-old"),
    runnable: await insert("app#echo", "h-new"),
    fresh: await insert("src/other.ts#x#0", "h9", 0),
  };
  return { db, jobs };
}

describe("jobs no live node can run", () => {
  it("a worker warns once per task and body hash, emits job:unrunnable, and names a path-prefix twin", async () => {
    const { db } = await setup();
    const events = new DurableEmitter();
    const fired: DurableEvents["job:unrunnable"][] = [];
    events.on("job:unrunnable", (e) => fired.push(e));
    const warnings: string[] = [];
    const logger = { ...quietLogger, warn: (m: string) => void warnings.push(m) };
    const service = unrunnableService({ pool: db.pool, quotedSchema: db.q, intervalMs: 100, thresholdMs: 60_000, events, logger, ownTaskIds: () => ["users.ts#signup#0", "app#echo"] });
    await service.run();
    await service.run();
    expect(fired).toHaveLength(1);
    const tasks = fired[0]!.tasks.map((t) => ({ task: t.task, hash: t.hash, count: t.count, reason: t.reason }));
    expect(tasks.sort((a, b) => a.task.localeCompare(b.task))).toEqual([
      { task: "app#echo", hash: "h-old", count: 1, reason: "hash" },
      { task: "src/users.ts#signup#0", hash: "h1", count: 2, reason: "task" },
    ]);
    expect(warnings.filter((w) => w.includes("src/users.ts#signup#0 are waiting for a node with task src/users.ts#signup#0 (hash h1)"))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes("app#echo is waiting for a node with task app#echo (hash h-old): live nodes run other versions of it (its capture names differ, bodyHashPolicy holds it, or the id now names another call site of its file)"))).toHaveLength(1);
    const prefix = warnings.filter((w) => w.includes("differ only by a path prefix"));
    expect(prefix).toHaveLength(1);
    expect(prefix[0]).toContain("jobs of task src/users.ts#signup#0 wait, and this node has users.ts#signup#0");
    // The job due for a moment only is under the threshold: not reported.
    expect(warnings.some((w) => w.includes("src/other.ts"))).toBe(false);
  });

  it("a hand-written run_at of -infinity is reported like any due job, not an error", async () => {
    const { db } = await setup();
    await db.pool.query(`insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, run_at)
      values ('available', 'ad_hoc_worker', 'src/far.ts#x#0', 'h7', 1, 1000, '{"json":{}}', '-infinity')`);
    const events = new DurableEmitter();
    const fired: DurableEvents["job:unrunnable"][] = [];
    events.on("job:unrunnable", (e) => fired.push(e));
    const service = unrunnableService({ pool: db.pool, quotedSchema: db.q, intervalMs: 100, thresholdMs: 60_000, events, logger: quietLogger, ownTaskIds: () => [] });
    await service.run();
    expect(fired[0]!.tasks.map((t) => t.task)).toContain("src/far.ts#x#0");
  });

  it("the operator surface says what a job waits for, and filters on it", async () => {
    const { db, jobs } = await setup();
    const admin = new Admin(db.pool, db.schema);
    const detail = await admin.job(jobs.prefixed);
    expect(detail?.waitingFor?.text).toBe("waiting for a node with task src/users.ts#signup#0 (hash h1)");
    expect((await admin.job(jobs.runnable))?.waitingFor).toBeNull();
    const { jobs: list } = await admin.list({ waitingForNode: true });
    expect(list.map((j) => j.id).sort()).toEqual([jobs.prefixed, jobs.prefixed2, jobs.oldVersion, jobs.fresh].sort());
    expect(list.find((j) => j.id === jobs.oldVersion)?.waitingFor?.reason).toBe("hash");
    expect(await admin.count({ waitingForNode: false })).toBe(1);
  });

  it("after the grace, the discard says whether the task or only that version of it is missing", async () => {
    const { db, jobs } = await setup();
    const logger = quietLogger;
    await unknownTasksService({ pool: db.pool, quotedSchema: db.q, intervalMs: 100, graceMs: 1_000, events: new DurableEmitter(), logger }).run();
    const { rows } = await db.pool.query(`select id::text, state, errors->-1->>'message' as message from ${db.q}.jobs order by id`);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(jobs.prefixed)?.message).toMatch(/^No running node has task "src\/users.ts#signup#0" after 1000 ms/);
    expect(byId.get(jobs.oldVersion)?.message).toMatch(
      /^No running node runs version h-old of task "app#echo" \(called from src\/app.ts:3:5\) after 1000 ms: the running code has this task with other capture names \(recorded: value\)/,
    );
    expect(byId.get(jobs.runnable)?.state).toBe("available");
    expect(byId.get(jobs.fresh)?.state).toBe("available");
  });

  it("path-prefix twins: same declaration and ordinal, one path ends with the other", () => {
    expect(differsByPathPrefix("src/users.ts#signup#0", "users.ts#signup#0")).toBe(true);
    expect(differsByPathPrefix("users.ts#signup#0", "apps/api/src/users.ts#signup#0")).toBe(true);
    expect(differsByPathPrefix("src/users.ts#signup#0", "src/users.ts#signup#1")).toBe(false);
    expect(differsByPathPrefix("src/ausers.ts#signup#0", "users.ts#signup#0")).toBe(false);
    expect(differsByPathPrefix("import-csv", "import-csv")).toBe(false);
  });
});
