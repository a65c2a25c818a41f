import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { buildId } from "../../src/runner/build-id.js";

// Build identity and drain: node rows say which build they run and what
// they claim; `durable.nodes` lists live nodes by build with the pending
// jobs only that build can run; a drained build's nodes leave work others
// can run to them and still run what only they can.
describe("nodes by build", () => {
  it("a node's build is its version, else its task manifest's hash; rows carry task ids and claim keys", async () => {
    expect(buildId([{ id: "a", hash: "1" }, { id: "b", hash: "2" }], null)).toBe(buildId([{ id: "b", hash: "2" }, { id: "a", hash: "1" }], null));
    expect(buildId([{ id: "a", hash: "1" }], null)).toMatch(/^m-[0-9a-f]{12}$/);
    expect(buildId([{ id: "a", hash: "1" }], null)).not.toBe(buildId([{ id: "a", hash: "2" }], null));
    expect(buildId([{ id: "a", hash: "1" }], "v1.4.2")).toBe("v1.4.2");
    const db = await testDatabase();
    const d = await db.start({ heartbeatInterval: 200 });
    const { rows } = await db.pool.query(`select build_id, task_ids, task_keys from ${db.q}.nodes`);
    expect(rows).toHaveLength(1);
    expect(rows[0].build_id).toBe(d.runner!.build);
    expect(rows[0].build_id).toMatch(/^m-[0-9a-f]{12}$/);
    expect(rows[0].task_keys).toContain(`${tasks.echo.id}:${tasks.echo.hash}`);
    expect(rows[0].task_ids).toContain(tasks.echo.id);
    await expect(d.nodes.drain("has space")).rejects.toThrow(/build name as `durable nodes` lists it/);
  });

  it("drain: new work goes to the other build; the drained one runs only what no other build can, and the count says when it may stop", async () => {
    const db = await testDatabase();
    const client = await db.start({ run: false });
    // A recorded older version of echo: v1 (policy "always") runs it, v2 (policy "hold") does not.
    await db.pool.query(`insert into ${db.q}.tasks (task_id, body_hash, file, line, col, source, capture_names) values ($1, 'h-old', 'old.ts', 1, 1, '() => value', '{value}')`, [tasks.echo.id]);
    const v1 = await db.start({ version: "v1", bodyHashPolicy: "always", heartbeatInterval: 200 });
    const v2 = await db.start({ version: "v2", bodyHashPolicy: "hold", heartbeatInterval: 200 });
    const ranOn = new Map<string, string>();
    v1.on("job:start", ({ job }) => ranOn.set(job.id, "v1"));
    v2.on("job:start", ({ job }) => ranOn.set(job.id, "v2"));
    const { rows: [old] } = await db.pool.query(`insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, run_at)
      values ('scheduled', 'ad_hoc_worker', $1, 'h-old', 3, 10000, '{"json":{"value":"old"}}', now() + interval '1 hour') returning id::text`, [tasks.echo.id]);

    const before = await client.nodes.builds();
    expect(before.map((b) => [b.build, b.nodes.length, b.jobsOnlyItRuns])).toEqual(expect.arrayContaining([["v1", 1, 1], ["v2", 1, 0]]));
    expect(before.find((b) => b.build === "v1")?.taskIds).toContain(tasks.echo.id);

    expect(await client.nodes.drain("v1")).toBe(1);
    await eventually("v1 drained", () => v1.runner!.drain.draining);
    const handles = await Promise.all(Array.from({ length: 20 }, (_, i) => client.async(tasks.echo, { value: i })));
    for (const h of handles) await client.await(h, { timeout: "20s" });
    expect(handles.map((h) => ranOn.get(h.id))).toEqual(handles.map(() => "v2"));

    // The old version falls due: only v1 can run it, drained or not.
    await db.pool.query(`update ${db.q}.jobs set run_at = now(), state = 'available' where id = $1`, [old.id]);
    await eventually("the old-version job ran", async () => (await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [old.id])).rows[0].state === "completed");
    expect(ranOn.get(old.id)).toBe("v1");
    const after = await client.nodes.builds();
    expect(after.find((b) => b.build === "v1")).toMatchObject({ draining: true, jobsOnlyItRuns: 0 });

    expect(await client.nodes.undrain("v1")).toBe(1);
    await eventually("v1 undrained", () => !v1.runner!.drain.draining);
  });
});
