import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";

type Db = Awaited<ReturnType<typeof testDatabase>>;

/** Ticks of the entry and jobs of its task, read in one statement (a tick and its job commit together). */
const counts = async (db: Db, name: string, task = "semantics#echo"): Promise<{ ticks: number; jobs: number; linked: number }> =>
  (
    await db.pool.query(
      `select (select count(*)::int from ${db.q}.cron_ticks where name = $1) as ticks,
              (select count(*)::int from ${db.q}.jobs where task_id = $2) as jobs,
              (select count(distinct job_id)::int from ${db.q}.cron_ticks where name = $1 and job_id is not null) as linked`,
      [name, task],
    )
  ).rows[0];

const ticksOf = async (db: Db, name: string): Promise<number> => (await counts(db, name)).ticks;

describe("schedules added at run time", () => {
  it("an entry added from an API node runs one job per tick on two worker nodes; pause, retime and remove reach them", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await Promise.all([0, 1].map(() => db.start({ pollInterval: 200 })));
    const added = await api.schedules.add("team-report", "* * * * * *", () => api.async(t.echo, { value: "report for 7" }, { meta: { team: 7 } }));
    expect(added).toMatchObject({ name: "team-report", origin: "api", expression: "* * * * * *", paused: false, task: "semantics#echo", tz: "UTC" });
    await api.schedules.add("clock", "* * * * * *", () => api.async(t.cronTick, {}));
    await eventually("three ticks of the added entry", async () => (await ticksOf(db, "team-report")) >= 3);
    const seen = await counts(db, "team-report");
    // One job per tick, each tick linked to its own job.
    expect(seen.jobs).toBe(seen.ticks);
    expect(seen.linked).toBe(seen.ticks);
    const { rows } = await db.pool.query(`select id::text as id, meta from ${db.q}.jobs where task_id = 'semantics#echo' order by id limit 1`);
    expect(rows[0].meta).toMatchObject({ team: 7 });
    expect(await api.await(rows[0].id, { timeout: "10s" })).toBe("report for 7");

    await api.schedules.pause("team-report");
    const clockAtPause = await ticksOf(db, "clock");
    await eventually("one clock tick after the pause", async () => (await ticksOf(db, "clock")) >= clockAtPause + 1);
    const frozen = await ticksOf(db, "team-report");
    const clockNow = await ticksOf(db, "clock");
    await eventually("three more clock ticks", async () => (await ticksOf(db, "clock")) >= clockNow + 3);
    expect(await ticksOf(db, "team-report")).toBe(frozen);
    await api.schedules.resume("team-report");
    await eventually("ticks again after resume", async () => (await ticksOf(db, "team-report")) > frozen);

    const retimed = await api.schedules.retime("team-report", "0 0 1 1 *");
    expect(retimed).toMatchObject({ expression: "0 0 1 1 *", declaredExpression: "* * * * * *", retimed: true, origin: "api" });
    const atRetime = await ticksOf(db, "team-report");
    const clockAtRetime = await ticksOf(db, "clock");
    await eventually("three clock ticks after the retime", async () => (await ticksOf(db, "clock")) >= clockAtRetime + 3);
    expect(await ticksOf(db, "team-report")).toBeLessThanOrEqual(atRetime + 1);
    await api.schedules.retime("team-report", null);
    const atBack = await ticksOf(db, "team-report");
    await eventually("ticks again on the added expression", async () => (await ticksOf(db, "team-report")) > atBack);

    await api.schedules.remove("team-report");
    expect((await api.schedules.list()).map((s) => s.name)).toEqual(["clock"]);
    const jobsAtRemove = (await counts(db, "team-report")).jobs;
    const clockAtRemove = await ticksOf(db, "clock");
    await eventually("three clock ticks after the remove", async () => (await ticksOf(db, "clock")) >= clockAtRemove + 3);
    // At most a tick claimed as the remove landed; none after.
    expect((await counts(db, "team-report")).jobs).toBeLessThanOrEqual(jobsAtRemove + 1);
    // Its tick history went with it (but for a tick in flight as it was removed).
    expect(await ticksOf(db, "team-report")).toBeLessThanOrEqual(1);
  });

  it("a node started after the entry was added picks it up; re-adding replaces the entry", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await api.schedules.add("late", "* * * * * *", () => api.async(t.echo, { value: "first" }));
    await api.schedules.add("late", "* * * * * *", () => api.async(t.echo, { value: "second" }));
    expect((await api.schedules.list()).filter((s) => s.name === "late")).toHaveLength(1);
    await db.start({ pollInterval: 200 });
    await eventually("two ticks on the late node", async () => (await ticksOf(db, "late")) >= 2);
    const { rows } = await db.pool.query(`select id::text as id from ${db.q}.jobs where task_id = 'semantics#echo' order by id limit 1`);
    expect(await api.await(rows[0].id, { timeout: "10s" })).toBe("second");
  });

  it("with encryption on, each tick's copy of the sealed captures opens on the worker", async () => {
    const key = randomBytes(32).toString("base64");
    const db = await testDatabase();
    const api = await db.start({ encryption: { key }, run: false });
    await db.start({ encryption: { key }, pollInterval: 200 });
    await api.schedules.add("sealed", "* * * * * *", () => api.async(t.echo, { value: "secret payload" }));
    await eventually("two ticks", async () => (await ticksOf(db, "sealed")) >= 2);
    const { rows } = await db.pool.query(`select id::text as id, captures::text as captures, row_key from ${db.q}.jobs where task_id = 'semantics#echo' order by id limit 2`);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.captures).not.toContain("secret payload");
      expect(row.row_key).not.toBeNull();
      expect(await api.await(row.id, { timeout: "10s" })).toBe("secret payload");
    }
    const stored = await db.pool.query(`select job::text as job from ${db.q}.cron_entries where name = 'sealed'`);
    expect(stored.rows[0].job).not.toContain("secret payload");
  });

  it("refuses bad names, expressions, time zones, functions and job options, and code entries, naming the fix", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const node = await db.start({ pollInterval: 200 });
    node.cron("0 0 1 1 *", t.cronTick, {}, { name: "in-code" });
    await eventually("the code entry to be declared", async () => (await api.schedules.list()).some((s) => s.name === "in-code"));
    const ok = () => api.async(t.echo, { value: 1 });
    expect(() => api.schedules.add("bad name!", "* * * * *", ok)).toThrow(/Invalid option `name`/);
    expect(() => api.schedules.add("x", "every tuesday", ok)).toThrow(/Invalid option `expression`.*not a cron expression/);
    expect(() => api.schedules.add("x", "* * * * *", ok, { tz: "Mars/Olympus" })).toThrow(/Invalid option `tz`/);
    expect(() => api.schedules.add("x", "* * * * *", ok, { queue: "q" } as any)).toThrow(/Invalid option `options`.*inside fn/);
    expect(() => api.schedules.add("x", "* * * * *", "nope" as any)).toThrow(/Invalid option `fn`.*durable.async/);
    expect(() => api.schedules.add("x", "* * * * *", () => undefined)).toThrow(/Invalid option `fn`.*exactly one durable.async\(\) call, made 0/);
    expect(() => api.schedules.add("x", "* * * * *", () => api.async(t.echo, { value: 1 }, { delay: "1m" }))).toThrow(/Invalid option `fn: delay`/);
    await expect(api.schedules.add("in-code", "* * * * *", ok)).rejects.toThrow(/declared in code with durable.cron\(\)/);
    await expect(api.schedules.remove("in-code")).rejects.toThrow(/declared in code with durable.cron\(\)/);
    await expect(api.schedules.remove("nope")).rejects.toThrow(/no cron entry is named "nope"/);
    const entries = await api.schedules.list();
    expect(entries.map((s) => [s.name, s.origin])).toEqual([["in-code", "code"]]);
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`);
    expect(rows[0].n).toBe(0);
  });
});
