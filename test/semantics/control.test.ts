import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";
import type { DurableInstance } from "../../src/instance.js";

const Q = "ad_hoc_worker";
const producerOf = (d: DurableInstance) => d.runner!.producers.get(Q)!;

describe("queue control", () => {
  it("pause on one node stops fetching on all within 1 s; a node started later stays paused", async () => {
    const db = await testDatabase();
    // pollInterval 5s: only the control notification can deliver the pause within 1 s.
    const nodes = await Promise.all([0, 1, 2].map(() => db.start({ queues: { [Q]: 2 }, pollInterval: 5_000 })));
    const api = await db.start({ run: false });
    await api.asyncMany(Array.from({ length: 300 }, () => [t.hold, { ms: 40 }] as [any, any]));
    await eventually("some jobs to complete", async () => (await api.jobs.count({ state: "completed" })) >= 20);
    const asked = Date.now();
    await nodes[0]!.queues.pause(Q);
    await eventually("every node to see the pause", () => nodes.every((n) => producerOf(n).paused));
    const seenMs = Date.now() - asked;
    expect(seenMs).toBeLessThan(1_000);
    // Measured from the database: no job of the queue started more than 1 s after the pause was written.
    await eventually("running jobs to finish", async () => (await api.jobs.count({ state: "executing" })) === 0);
    const { rows } = await db.pool.query(
      `select count(*) filter (where attempted_at > q.updated_at + interval '1 second')::int as late,
              count(*) filter (where attempted_at is null)::int as waiting
       from ${db.q}.jobs j, ${db.q}.queues q where q.name = $1`, [Q]);
    expect(rows[0].late).toBe(0);
    expect(rows[0].waiting).toBeGreaterThan(0);
    console.log(`[pause] all 3 nodes paused ${seenMs} ms after pause() was called`);

    const late = await db.start({ queues: { [Q]: 2 }, pollInterval: 200 });
    expect(producerOf(late).paused).toBe(true);
    const before = await api.jobs.count({ state: "pending" });
    // A negative can only be observed over time: several of the late node's poll cycles.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await api.jobs.count({ state: "pending" })).toBe(before);

    await api.queues.resume(Q);
    await eventually("every job to complete after resume", async () => (await api.jobs.count({ state: "completed" })) === 300, 30_000);
  });

  it("pause({ for }) resumes on its own", async () => {
    const db = await testDatabase();
    const node = await db.start({ pollInterval: 100 });
    await node.queues.pause(Q, { for: "1s" });
    await eventually("the node to see the pause", () => producerOf(node).paused);
    const job = await node.async(t.echo, { value: "after" });
    expect(await node.await(job, { timeout: "10s" })).toBe("after");
    const { rows } = await db.pool.query(`select j.attempted_at >= q.paused_until as waited from ${db.q}.jobs j, ${db.q}.queues q where j.id = $1 and q.name = $2`, [job.id, Q]);
    expect(rows[0].waited).toBe(true);
    expect(producerOf(node).paused).toBe(false);
    expect((await node.queues.list()).find((q) => q.name === Q)).toMatchObject({ paused: false, pausedUntil: null });
  });

  it("scale changes concurrency on every node and list() reports it", async () => {
    const db = await testDatabase();
    const nodes = await Promise.all([0, 1].map(() => db.start({ queues: { [Q]: 5 } })));
    await nodes[0]!.queues.scale(Q, 2);
    await eventually("both nodes to apply the new limit", () => nodes.every((n) => producerOf(n).limit === 2));
    const info = (await nodes[1]!.queues.list()).find((q) => q.name === Q)!;
    expect(info).toMatchObject({ concurrency: 2, paused: false, nodeConcurrency: 10 });
    await nodes[0]!.queues.configure(Q, { rateLimit: { allowed: 5, period: "1s" }, globalConcurrency: 3, retention: { completed: "1d" } });
    expect((await nodes[1]!.queues.list()).find((q) => q.name === Q)).toMatchObject({
      globalConcurrency: 3, rateLimit: { allowed: 5, periodMs: 1000 }, retention: { completed: 86_400_000 },
    });
    await nodes[0]!.queues.configure(Q, { rateLimit: null });
    expect((await nodes[1]!.queues.list()).find((q) => q.name === Q)).toMatchObject({ globalConcurrency: 3, rateLimit: null });
  });
});

describe("job control", () => {
  it("cancel of a running job aborts its signal on the executing node; the job ends cancelled", async () => {
    const db = await testDatabase();
    const worker = await db.start();
    const api = await db.start({ run: false });
    const job = await api.async(t.waitForCancel, {});
    await eventually("the job to start", () => t.started.includes(job.id));
    expect(await api.jobs.cancel({ id: job.id })).toBe(1);
    await expect(api.await(job, { timeout: "10s" })).rejects.toMatchObject({ code: "DURABLE_JOB_CANCELLED" });
    const abort = await eventually("the closure's signal to abort", () => t.aborted.find((a) => a.jobId === job.id));
    expect(abort.reason).toMatchObject({ kind: "cancel" });
    await eventually("the node to let go of the job", () => producerOf(worker).running.size === 0);
    const { rows } = await db.pool.query(`select state, cancelled_at is not null as stamped from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0]).toEqual({ state: "cancelled", stamped: true });
  });

  it("cancel, retry and delete by filter touch exactly the matching jobs", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const a = await d.asyncMany(Array.from({ length: 5 }, (_, i) => [t.echo, { value: i }, { meta: { org: 1 }, tags: ["x"] }] as [any, any, any]));
    const b = await d.asyncMany(Array.from({ length: 3 }, (_, i) => [t.echo, { value: i }, { meta: { org: 2 }, delay: "1h" }] as [any, any, any]));
    expect(await d.jobs.cancel({ meta: { org: 1 }, state: "pending" })).toBe(5);
    expect(await d.jobs.count({ state: "cancelled" })).toBe(5);
    expect(await d.jobs.cancel({ meta: { org: 1 } })).toBe(0); // already finished
    expect(await d.jobs.retry({ id: [a[0]!.id, a[1]!.id] })).toBe(2);
    expect(await d.jobs.countByState({})).toMatchObject({ available: 2, scheduled: 3, cancelled: 3 });
    expect(await d.jobs.delete({ state: "failed" })).toBe(3);
    expect(await d.jobs.delete({ id: b.map((h) => h.id), tags: ["x"] })).toBe(0);
    expect(await d.jobs.count()).toBe(5);
  });
});
