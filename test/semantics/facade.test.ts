import { describe, expect, it } from "vitest";
import { durable } from "../../src/durable.js";
import { DurableStoppedError } from "../../src/errors.js";
import { eventually, quietLogger, testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";
import * as f from "../support/facade-tasks.mjs";

// The process-wide facade through its whole life: calls before start(),
// start, stop, calls after stop, start again.

const call = durable as any;
const recordingLogger = () => {
  const errors: string[] = [];
  return { errors, logger: { ...quietLogger, error: (message: string, fields?: Record<string, unknown>) => errors.push(`${message} ${JSON.stringify(fields)}`) } };
};

describe("the durable facade", () => {
  // First: before any start() or stop() of the process-wide facade.
  it("before start(), calls use a client-only instance from the environment, and start() takes over", async () => {
    const db = await testDatabase();
    const saved = { url: process.env.DATABASE_URL, schema: process.env.DURABLE_SCHEMA };
    process.env.DATABASE_URL = db.url;
    process.env.DURABLE_SCHEMA = db.schema;
    try {
      const early = await call.async(f.echo, { value: "early" });
      expect(durable.instance.config.run).toBe(false);
      await durable.start({ database: db.url, schema: db.schema, logger: quietLogger, handleSignals: false, pollInterval: 200 });
      expect(await durable.await(early, { timeout: "10s" })).toBe("early");
    } finally {
      restore("DATABASE_URL", saved.url);
      restore("DURABLE_SCHEMA", saved.schema);
      await durable.stop({ grace: 0 });
    }
  });

  it("keeps module-level cron entries registered before durable.start(), and exposes queues and jobs", async () => {
    const db = await testDatabase();
    // As a module-level `durable.cron(...)` would, before the app calls start().
    (durable.cron as any)("* * * * * *", t.cronTick, {}, { name: "facade-tick" });
    await durable.start({ database: db.url, schema: db.schema, logger: quietLogger, handleSignals: false, pollInterval: 200 });
    try {
      await eventually("a tick job", async () => (await durable.jobs.count({ task: "semantics#cronTick" })) >= 1, 10_000);
      await durable.queues.pause("ad_hoc_worker");
      expect((await durable.queues.list()).find((q) => q.name === "ad_hoc_worker")?.paused).toBe(true);
    } finally {
      await durable.stop({ grace: 0 });
    }
  });

  it("after stop(), enqueue, await, jobs and queues fail with DURABLE_STOPPED instead of reaching another schema", async () => {
    const db = await testDatabase();
    const other = await testDatabase("default-schema");
    const insertErrors: string[] = [];
    const off = durable.on("job:insert-error", (e) => insertErrors.push(e.error.message));
    const { errors, logger } = recordingLogger();
    // Were the facade to fall back to the environment, it would land in `other`.
    const saved = { url: process.env.DATABASE_URL, schema: process.env.DURABLE_SCHEMA };
    process.env.DATABASE_URL = other.url;
    process.env.DURABLE_SCHEMA = other.schema;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await durable.start({ database: db.url, schema: db.schema, logger, handleSignals: false, pollInterval: 200 });
      const job = await call.async(f.echo, { value: "first" });
      expect(await durable.await(job, { timeout: "10s" })).toBe("first");
      await durable.stop();

      await expect(call.async(f.echo, { value: "late" })).rejects.toBeInstanceOf(DurableStoppedError);
      call.async(f.echo, { value: "fire and forget" }); // never awaited: logged and emitted, never an unhandled rejection
      await expect(call.run(f.echo, { value: "late" })).rejects.toMatchObject({ code: "DURABLE_STOPPED" });
      await expect(durable.await(job, { timeout: "1s" })).rejects.toThrow(/durable\.stop\(\) was called.*Call durable\.start\(\) again/);
      await expect(durable.awaitAll([job], { timeout: "1s" })).rejects.toBeInstanceOf(DurableStoppedError);
      await expect(durable.bulk(() => call.async(f.echo, { value: "bulk" }))).rejects.toBeInstanceOf(DurableStoppedError);
      await expect(durable.jobs.count()).rejects.toBeInstanceOf(DurableStoppedError);
      await expect(durable.jobs.list({ state: "completed" })).rejects.toBeInstanceOf(DurableStoppedError);
      await expect(durable.queues.pause("ad_hoc_worker")).rejects.toBeInstanceOf(DurableStoppedError);
      await eventually("insert errors reported", () => insertErrors.length >= 3);
      expect(insertErrors.every((m) => /durable\.stop\(\) was called/.test(m))).toBe(true);
      expect(errors.some((e) => e.includes("enqueue failed") && e.includes("durable.stop() was called"))).toBe(true);
      expect(unhandled).toEqual([]);
      // Nothing reached either schema after stop().
      // (The cron entry of the test above carries over to each new instance, as module-level entries do.)
      expect((await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where task_id = 'facade#echo'`)).rows[0].n).toBe(1);
      expect((await other.pool.query(`select to_regclass($1) as t`, [`${other.q}.jobs`])).rows[0].t).toBeNull();
    } finally {
      process.off("unhandledRejection", onUnhandled);
      off();
      restore("DATABASE_URL", saved.url);
      restore("DURABLE_SCHEMA", saved.schema);
      await durable.stop({ grace: 0 });
    }
  });

  it("starts again after stop() with new options, keeping listeners registered before the first start", async () => {
    const first = await testDatabase("first");
    const second = await testDatabase("second");
    const inserted: string[] = [];
    const off = durable.on("job:insert", (e) => inserted.push(...e.jobs.map((j) => j.id)));
    try {
      await durable.start({ database: first.url, schema: first.schema, logger: quietLogger, handleSignals: false, pollInterval: 200 });
      await call.async(f.echo, { value: 1 });
      await durable.stop({ grace: 0 });
      await durable.start({ database: second.url, schema: second.schema, logger: quietLogger, handleSignals: false, pollInterval: 200 });
      const job = await call.async(f.echo, { value: 2 });
      expect(await durable.await(job, { timeout: "10s" })).toBe(2);
      expect(inserted.length).toBeGreaterThanOrEqual(2);
      expect((await second.pool.query(`select count(*)::int as n from ${second.q}.jobs where task_id = 'facade#echo'`)).rows[0].n).toBe(1);
      await expect(durable.start({ database: second.url, schema: second.schema })).rejects.toThrow(/already called/);
    } finally {
      off();
      await durable.stop({ grace: 0 });
    }
  });

  it("a job finishing during stop() may still enqueue a follow-up", async () => {
    const db = await testDatabase();
    await durable.start({ database: db.url, schema: db.schema, logger: quietLogger, handleSignals: false, pollInterval: 200 });
    f.gate.enqueue = (value) => call.async(f.echo, { value: `follow-up of ${value}` });
    const started = new Promise<void>((resolve) => (f.gate.started = resolve));
    const job = await call.async(f.finishThenFollowUp, { value: "a" });
    await started;
    const stopping = durable.stop({ grace: 10_000 });
    f.gate.release!();
    await stopping;
    const { rows } = await db.pool.query(`select state, result from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0].state).toBe("completed");
    const followUp = (await db.pool.query(`select captures from ${db.q}.jobs where task_id = 'facade#echo'`)).rows;
    expect(followUp).toHaveLength(1);
    expect(JSON.stringify(followUp[0].captures)).toContain("follow-up of a");
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
