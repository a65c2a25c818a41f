import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";

const ticksOf = async (db: { pool: any; q: string }, name: string): Promise<number> =>
  (await db.pool.query(`select count(*)::int as n from ${db.q}.cron_ticks where name = $1`, [name])).rows[0].n;

describe("schedules at run time", () => {
  it("lists entries with their next run; pause, resume and retime reach every node and hold while paused", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const nodes = await Promise.all([0, 1].map(() => db.start({ pollInterval: 200 })));
    for (const n of nodes) {
      n.cron("* * * * * *", t.cronTick, {}, { name: "every-second" });
      n.cron("* * * * * *", t.cronTick, {}, { name: "clock" });
    }
    await eventually("two ticks of the entry", async () => (await ticksOf(db, "every-second")) >= 2);
    const listed = (await api.schedules.list()).find((s) => s.name === "every-second")!;
    expect(listed).toMatchObject({ expression: "* * * * * *", declaredExpression: "* * * * * *", retimed: false, paused: false, tz: "UTC", task: "semantics#cronTick" });
    expect(listed.nextRunAt).toBeInstanceOf(Date);
    expect(listed.lastTickAt).toBeInstanceOf(Date);

    const paused = await api.schedules.pause("every-second");
    expect(paused).toMatchObject({ paused: true, nextRunAt: null });
    // Any tick claimed before the pause landed is done within a second; then count while "clock" ticks three more times.
    const clockAtPause = await ticksOf(db, "clock");
    await eventually("one clock tick after the pause", async () => (await ticksOf(db, "clock")) >= clockAtPause + 1);
    const frozen = await ticksOf(db, "every-second");
    const clockNow = await ticksOf(db, "clock");
    await eventually("three more clock ticks", async () => (await ticksOf(db, "clock")) >= clockNow + 3);
    expect(await ticksOf(db, "every-second")).toBe(frozen);

    await api.schedules.resume("every-second");
    await eventually("ticks again after resume", async () => (await ticksOf(db, "every-second")) > frozen);

    const retimed = await api.schedules.retime("every-second", "0 0 1 1 *");
    expect(retimed).toMatchObject({ expression: "0 0 1 1 *", declaredExpression: "* * * * * *", retimed: true });
    expect(retimed.nextRunAt!.toISOString()).toMatch(/-01-01T00:00:00.000Z$/);
    const atRetime = await ticksOf(db, "every-second");
    const clockAtRetime = await ticksOf(db, "clock");
    await eventually("three clock ticks after the retime", async () => (await ticksOf(db, "clock")) >= clockAtRetime + 3);
    // At most a tick claimed as the change landed; none after.
    expect(await ticksOf(db, "every-second")).toBeLessThanOrEqual(atRetime + 1);
    const back = await api.schedules.retime("every-second", null);
    expect(back).toMatchObject({ expression: "* * * * * *", retimed: false });
    const atBack = await ticksOf(db, "every-second");
    await eventually("ticks again on the declared expression", async () => (await ticksOf(db, "every-second")) > atBack);
  });

  it("a node started while an entry is paused does not fire it; unknown names and bad expressions are refused", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const first = await db.start({ pollInterval: 200 });
    first.cron("* * * * * *", t.cronTick, {}, { name: "held" });
    await eventually("the entry to be declared", async () => (await api.schedules.list()).some((s) => s.name === "held"));
    await api.schedules.pause("held");
    await first.stop({ grace: 0 });
    const late = await db.start({ pollInterval: 200 });
    late.cron("* * * * * *", t.cronTick, {}, { name: "held" });
    late.cron("* * * * * *", t.cronTick, {}, { name: "clock" });
    const before = await ticksOf(db, "held");
    await eventually("three clock ticks", async () => (await ticksOf(db, "clock")) >= 3);
    expect(await ticksOf(db, "held")).toBe(before);
    await expect(api.schedules.pause("nope")).rejects.toThrow(/no cron entry is named "nope"/);
    expect(() => api.schedules.retime("held", "every tuesday")).toThrow(/not a cron expression/);
  });
});
