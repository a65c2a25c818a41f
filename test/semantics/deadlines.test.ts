import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import { startWorkerProcess } from "../support/processes.js";
import * as t from "../support/semantics-tasks.mjs";

const Q = "ad_hoc_worker";

describe("deadlines", () => {
  it("a job not started by its deadline is discarded with the reason, never run, across two worker processes", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await Promise.all([startWorkerProcess(db.schema, { concurrency: 4 }), startWorkerProcess(db.schema, { concurrency: 4 })]);
    // Due after its deadline: no node may start it; the sweep discards it.
    const late = await api.async(t.echo, { value: "late" }, { delay: "2s", deadline: "300ms" });
    const past = await api.async(t.echo, { value: "past" }, { expiresAt: new Date(Date.now() - 1000) });
    const onTime = await api.async(t.echo, { value: "on time" }, { deadline: "1m" });
    expect(await api.await(onTime, { timeout: "20s" })).toBe("on time");
    for (const job of [late, past]) {
      await expect(api.await(job, { timeout: "20s" })).rejects.toMatchObject({ code: "DURABLE_JOB_FAILED", lastError: { code: "DURABLE_DEADLINE_EXPIRED" } });
    }
    const { rows } = await db.pool.query(`select id::text, state, attempt, attempted_at, errors from ${db.q}.jobs where id = any($1::bigint[]) order by id`, [[late.id, past.id]]);
    for (const row of rows) {
      expect(row).toMatchObject({ state: "discarded", attempt: 0, attempted_at: null });
      expect(row.errors.at(-1).message).toMatch(/not started by its deadline .*discarded instead of running late/);
    }
  });

  it("the claim itself never takes an expired job, even before the sweep ran", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    // A heartbeat of a minute: the sweep does not run during this test, only the claim decides.
    const node = await db.start({ heartbeatInterval: "1m", leaseTtl: "5m" });
    const expired = await api.async(t.echo, { value: "x" }, { expiresAt: new Date(Date.now() - 1) });
    const after = await api.async(t.echo, { value: "y" });
    expect(await api.await(after, { timeout: "20s" })).toBe("y");
    const { rows } = await db.pool.query(`select state, attempt from ${db.q}.jobs where id = $1`, [expired.id]);
    expect(rows[0]).toEqual({ state: "available", attempt: 0 });
    expect(node.runner).not.toBeNull();
  });

  it("a deadline also bounds retries: a retry due after it is discarded, not run", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await startWorkerProcess(db.schema, { concurrency: 2 });
    const job = await api.async(t.replyToUnknown, { sender: "bounce-1" }, { maxAttempts: 5, deadline: "1s", backoff: { type: "fixed", delay: "3s" } });
    await expect(api.await(job, { timeout: "20s" })).rejects.toMatchObject({ lastError: { code: "DURABLE_DEADLINE_EXPIRED" } });
    const { rows } = await db.pool.query(`select attempt from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0].attempt).toBe(1);
  });

  it("refuses bad deadlines at the call", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    expect(() => api.async(t.echo, { value: 1 }, { deadline: "soon" } as any)).toThrow(/deadline/);
    expect(() => api.async(t.echo, { value: 1 }, { deadline: "1m", expiresAt: new Date() })).toThrow(/cannot be combined/);
    expect(() => api.async(t.echo, { value: 1 }, { expiresAt: "tomorrow" } as any)).toThrow(/expiresAt/);
  });
});
