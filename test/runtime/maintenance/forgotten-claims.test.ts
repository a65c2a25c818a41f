import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../../support/db.js";
import * as tasks from "../../support/tasks.mjs";

// A claim can commit while its reply is lost (a half-open connection, a query
// timeout): the job then sits "executing" in this node's name, and because
// the node keeps heartbeating, rescue never takes it. The runner hands such
// jobs back itself, and never a job it is actually running.

describe("jobs claimed for a node that never received them", () => {
  it("are released and run, while running and recent claims are left alone", async () => {
    const db = await testDatabase();
    const d = await db.start({ heartbeatInterval: 100, leaseTtl: 1_000 });
    const nodeId = d.runner!.nodeId;

    const running = await d.async(tasks.sleep, { ms: 2_500 });
    await eventually("the sleep job to run", async () => (await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [running.id])).rows[0].state === "executing");

    const [lost, recent] = await Promise.all([d.async(tasks.add, { a: 1, b: 2 }, { delay: "1h" }), d.async(tasks.add, { a: 3, b: 4 }, { delay: "1h" })]);
    // As a lost reply leaves them: executing in this node's name, attempt spent.
    await db.pool.query(
      `update ${db.q}.jobs set state = 'executing', node_id = $2, attempt = 1, run_at = now(),
         attempted_at = case when id = $3 then now() - interval '10 minutes' else now() end
       where id = any($1::bigint[])`,
      [[lost.id, recent.id], nodeId, lost.id],
    );
    // The running job looks just as old; it must not be handed back.
    await db.pool.query(`update ${db.q}.jobs set attempted_at = now() - interval '10 minutes' where id = $1`, [running.id]);

    expect(await d.await(lost, { timeout: "20s" })).toBe(3);
    const rows = async () => (await db.pool.query(`select id::text, state, attempt, node_id from ${db.q}.jobs where id = any($1::bigint[]) order by id`, [[running.id, lost.id, recent.id]])).rows;
    const after = await rows();
    expect(after.find((r) => r.id === lost.id)).toMatchObject({ state: "completed", attempt: 1 });
    expect(after.find((r) => r.id === recent.id)).toMatchObject({ state: "executing", node_id: nodeId });
    expect(after.find((r) => r.id === running.id)).toMatchObject({ state: "executing", node_id: nodeId, attempt: 1 });
    expect(await d.await(running, { timeout: "20s" })).toBe(2_500);
    expect((await rows()).find((r) => r.id === running.id)).toMatchObject({ state: "completed", attempt: 1 });
  });
});
