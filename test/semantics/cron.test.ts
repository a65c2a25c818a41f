import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";

describe("cron", () => {
  it("3 nodes for 5 ticks insert exactly one job per tick, no leader", async () => {
    const db = await testDatabase();
    const nodes = await Promise.all([0, 1, 2].map(() => db.start()));
    const ticksSeen = nodes.map(() => 0);
    for (const n of nodes) n.cron("* * * * * *", t.cronTick, {}, { name: "every-second", tz: "UTC" });
    nodes.forEach((n, i) => n.on("job:insert", () => ticksSeen[i]!++));
    await eventually("5 ticks", async () => (await db.pool.query(`select count(*)::int as n from ${db.q}.cron_ticks`)).rows[0].n >= 5, 15_000);
    await Promise.all(nodes.map((n) => n.stop({ grace: 1_000 })));
    const { rows: ticks } = await db.pool.query(`select tick, job_id::text from ${db.q}.cron_ticks order by tick`);
    const { rows: jobs } = await db.pool.query(`select id::text, task_id from ${db.q}.jobs order by id`);
    expect(ticks.length).toBeGreaterThanOrEqual(5);
    expect(jobs).toHaveLength(ticks.length);
    expect(new Set(ticks.map((r) => r.job_id))).toEqual(new Set(jobs.map((j) => j.id)));
    expect(jobs.every((j) => j.task_id === "semantics#cronTick")).toBe(true);
    // Consecutive seconds: no tick was lost while 3 nodes raced for each.
    const gaps = ticks.slice(1).map((r, i) => r.tick.getTime() - ticks[i]!.tick.getTime());
    expect(new Set(gaps)).toEqual(new Set([1000]));
    expect(ticksSeen.reduce((a, b) => a + b, 0)).toBe(ticks.length);
    console.log(`[cron] ${ticks.length} ticks, ${jobs.length} jobs; ticks won per node: ${ticksSeen.join("/")}`);
  });

  it("catches up one missed tick on start, once across nodes, only when configured", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    // The entry last ran 10 minutes ago; every minute since was missed.
    await db.pool.query(`insert into ${db.q}.cron_ticks (name, tick) values ('minutely', date_trunc('minute', now()) - interval '10 minutes'), ('quiet', date_trunc('minute', now()) - interval '10 minutes')`);
    const nodes = await Promise.all([0, 1, 2].map(() => db.start()));
    for (const n of nodes) {
      n.cron("* * * * *", t.cronTick, {}, { name: "minutely", catchUp: true });
      n.cron("* * * * *", t.echo, { value: 1 }, { name: "quiet" });
    }
    await eventually("the catch-up job", async () => (await api.jobs.count({ task: "semantics#cronTick" })) === 1);
    await Promise.all(nodes.map((n) => n.stop({ grace: 0 })));
    const { rows } = await db.pool.query(`select name, tick from ${db.q}.cron_ticks order by name, tick`);
    const minutely = rows.filter((r) => r.name === "minutely");
    // Only the latest missed tick, not all ten.
    expect(minutely).toHaveLength(2);
    expect(Date.now() - minutely[1]!.tick.getTime()).toBeLessThan(60_000 + 5_000);
    expect(await api.jobs.count({ task: "semantics#cronTick" })).toBe(1);
    expect(await api.jobs.count({ task: "semantics#echo" })).toBe(0);
  });

  it("reads expressions in the entry's time zone and supports shortcuts", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const paris = d.cron("0 9 * * *", t.cronTick, {}, { name: "paris", tz: "Europe/Paris" });
    const next = paris.nextRun()!;
    expect(new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" }).format(next)).toBe("09:00");
    const daily = d.cron("@daily", t.cronTick, {}, { name: "daily" });
    expect(daily.nextRun()!.toISOString()).toMatch(/T00:00:00\.000Z$/);
    expect(() => d.cron("@daily", t.cronTick, {}, { name: "daily" })).toThrow(/already used/);
  });
});
