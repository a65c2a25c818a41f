import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";

const Q = "ad_hoc_worker";

describe("scheduling", () => {
  it("runs due jobs by priority, then due time, within a queue", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await api.queues.pause(Q);
    const priorities = [5, 0, 9, 0, 3];
    const handles = [];
    for (const [i, priority] of priorities.entries()) handles.push(await api.async(t.echo, { value: i }, { priority }));
    const later = await api.async(t.echo, { value: "later" }, { priority: 0, delay: "1s" });
    const node = await db.start({ queues: { [Q]: 1 } });
    await api.queues.resume(Q);
    await eventually("all jobs to complete", async () => (await api.jobs.count({ state: "sent" })) === 6, 20_000);
    const { rows } = await db.pool.query(`select id::text from ${db.q}.jobs order by attempted_at`);
    // 0,0 (by insert), 3, 5, 9. The delayed priority-0 job may come anywhere once it is due (on a
    // slow machine the five take longer than its delay), so it is checked apart: never before it was due.
    const order = rows.map((r) => r.id).filter((id) => id !== later.id);
    expect(order).toEqual([handles[1], handles[3], handles[4], handles[0], handles[2]].map((h) => h!.id));
    const { rows: due } = await db.pool.query(`select attempted_at >= run_at as on_time from ${db.q}.jobs where id = $1`, [later.id]);
    expect(due[0].on_time).toBe(true);
    void node;
  });

  it("cron fan-out: each tick enqueues one unique child per organisation", async () => {
    const db = await testDatabase();
    const nodes = await Promise.all([0, 1].map(() => db.start()));
    t.fanOutTarget.instance = nodes[0];
    t.fanOutTarget.orgs = [1, 2, 3, 4, 5];
    for (const n of nodes) n.cron("* * * * * *", t.fanOut, {}, { name: "fan-out" });
    await eventually("3 fan-out ticks to complete", async () => (await nodes[0]!.jobs.count({ task: "semantics#fanOut", state: "sent" })) >= 3, 15_000);
    await Promise.all(nodes.map((n) => n.stop({ grace: 2_000 })));
    const { rows } = await db.pool.query(`select meta->>'orgId' as org, count(*)::int as n from ${db.q}.jobs where task_id = 'semantics#syncOrg' group by 1 order by 1`);
    expect(rows).toEqual(["1", "2", "3", "4", "5"].map((org) => ({ org, n: 1 })));
    const { rows: results } = await db.pool.query(`select result from ${db.q}.jobs where task_id = 'semantics#fanOut' and state = 'completed' order by id`);
    // The first tick inserted all five children; later ticks found them and inserted none.
    expect(results.map((r) => r.result.json)).toEqual([5, ...results.slice(1).map(() => 0)]);
  });
});
