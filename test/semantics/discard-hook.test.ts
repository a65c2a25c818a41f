import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import { startWorkerProcess } from "../support/processes.js";
import { durable } from "../../dist/src/index.js";
import * as t from "../support/semantics-tasks.mjs";

/** The hook jobs: their meta names the discarded job. */
async function hookJobs(db: { pool: any; q: string }) {
  const { rows } = await db.pool.query(`select id::text, state, queue, meta, result from ${db.q}.jobs where meta ? 'discardedJobId' order by id`);
  return rows;
}

describe("onDiscard hook", () => {
  it("a job discarded on its last attempt inserts its hook job, which runs on another worker process with captures taken at the call", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await Promise.all([startWorkerProcess(db.schema, { concurrency: 4 }), startWorkerProcess(db.schema, { concurrency: 4 })]);
    const orderId = "order-7";
    const job = await api.async(t.replyToUnknown, { sender: "bounce-hook" }, {
      maxAttempts: 1,
      meta: { orderId },
      // The inner call is transformed like any call site (here: a stub written by hand), recorded now, inserted on discard.
      onDiscard: () => (durable as any).async(t.echo, { value: `compensate ${orderId}` }, { meta: { kind: "compensation" }, tags: ["alert"] }),
    });
    await expect(api.await(job, { timeout: "20s" })).rejects.toMatchObject({ code: "DURABLE_JOB_FAILED" });
    const hook = await eventually("the hook job to complete", async () => {
      const rows = await hookJobs(db);
      return rows.length === 1 && rows[0].state === "completed" && rows[0];
    });
    expect(hook.meta).toMatchObject({ kind: "compensation", discardedJobId: job.id, discardedTask: "semantics#replyToUnknown" });
    expect(hook.meta.discardReason).toMatch(/cannot deliver to bounce-hook/);
    expect(hook.result.json).toBe("compensate order-7");
    const { rows } = await db.pool.query(`select tags from ${db.q}.jobs where id = $1`, [hook.id]);
    expect(rows[0].tags).toEqual(["alert"]);
  });

  it("fires for a deadline discard too, and not for completed or cancelled jobs", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await startWorkerProcess(db.schema, { concurrency: 4 });
    const hook = (label: string) => () => api.async(t.echo, { value: label });
    const expired = await api.async(t.echo, { value: 1 }, { delay: "1m", deadline: "200ms", onDiscard: hook("expired") });
    const done = await api.async(t.echo, { value: 2 }, { onDiscard: hook("done") });
    const cancelled = await api.async(t.echo, { value: 3 }, { delay: "1h", onDiscard: hook("cancelled") });
    expect(await api.await(done, { timeout: "20s" })).toBe(2);
    await api.jobs.cancel({ id: cancelled.id });
    await expect(api.await(expired, { timeout: "20s" })).rejects.toMatchObject({ lastError: { code: "DURABLE_DEADLINE_EXPIRED" } });
    const rows = await eventually("the expired job's hook to complete", async () => {
      const rows = await hookJobs(db);
      return rows.every((r: any) => r.state === "completed") && rows.length > 0 && rows;
    });
    expect(rows.map((r: any) => [r.meta.discardedJobId, r.result.json])).toEqual([[expired.id, "expired"]]);
  });

  it("fires when a rescue discards the last attempt of a job whose worker process was killed", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const doomed = await startWorkerProcess(db.schema, { concurrency: 2, leaseTtlMs: 2_000 });
    const job = await api.async(t.waitForCancel, {}, { maxAttempts: 1, onDiscard: () => api.async(t.echo, { value: "after the crash" }) });
    await eventually("the job to run on the doomed worker", async () => (await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [job.id])).rows[0].state === "executing");
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    await startWorkerProcess(db.schema, { concurrency: 2, leaseTtlMs: 2_000 });
    await expect(api.await(job, { timeout: "30s" })).rejects.toMatchObject({ lastError: { code: "DURABLE_NODE_LOST" } });
    const hook = await eventually("the hook job to complete", async () => (await hookJobs(db)).find((r: any) => r.state === "completed"), 30_000);
    expect(hook.meta).toMatchObject({ discardedJobId: job.id });
    expect(hook.result.json).toBe("after the crash");
  });

  it("is refused at the call when it is not one durable.async() call, or asks for what a hook cannot have", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    expect(() => api.async(t.echo, { value: 1 }, { onDiscard: "alert" as any })).toThrow(/onDiscard.*expected a function/);
    expect(() => api.async(t.echo, { value: 1 }, { onDiscard: () => undefined })).toThrow(/exactly one durable.async\(\) call, made 0/);
    expect(() => api.async(t.echo, { value: 1 }, { onDiscard: () => api.async(t.echo, { value: 2 }, { delay: "1m" }) })).toThrow(/not an option of a discard hook/);
    expect(() => api.async(t.echo, { value: 1 }, { onDiscard: () => api.async(t.echo, { value: () => 1 }) })).toThrow(/onDiscard/);
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`);
    expect(rows[0].n).toBe(0);
  });
});

describe("sealed captures (encryption on)", () => {
  const key = randomBytes(32).toString("base64");

  it("a hook's captures and a debounced job's replaced captures open on the worker: each is sealed for the row it ends up in", async () => {
    const db = await testDatabase();
    const api = await db.start({ encryption: { key }, run: false });
    await db.start({ encryption: { key } });
    const failing = await api.async(t.replyToUnknown, { sender: "bounce-sealed" }, { maxAttempts: 1, onDiscard: () => api.async(t.echo, { value: "sealed hook" }) });
    await expect(api.await(failing, { timeout: "20s" })).rejects.toMatchObject({ code: "DURABLE_JOB_FAILED" });
    const hook = await eventually("the hook job to finish", async () => (await hookJobs(db)).find((r: any) => r.state !== "available" && r.state !== "executing"));
    expect(hook.state).toBe("completed");
    expect(await api.await(hook.id, { timeout: "10s" })).toBe("sealed hook");
    // Paused while the two calls are made, so the second surely finds the first still waiting.
    await api.queues.pause("ad_hoc_worker");
    const first = await api.async(t.echo, { value: "draft" }, { debounce: "300ms", meta: { doc: 1 } });
    const last = await api.async(t.echo, { value: "final" }, { debounce: "300ms", meta: { doc: 1 } });
    await api.queues.resume("ad_hoc_worker");
    expect(last).toMatchObject({ id: first.id, conflict: true });
    expect(await api.await(last, { timeout: "20s" })).toBe("final");
  });
});
