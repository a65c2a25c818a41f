import { describe, expect, it } from "vitest";
import { quietLogger, testDatabase } from "../../support/db.js";
import { DurableEmitter } from "../../../src/events/index.js";
import { heartbeatService } from "../../../src/runner/maintenance/heartbeat.js";
import { deadNodesService } from "../../../src/runner/maintenance/dead-nodes.js";
import { rescuerService } from "../../../src/runner/maintenance/rescuer.js";

// One pass of each service that keeps the nodes table true: the heartbeat
// extends this node's lease (and registers it again if its row is gone),
// the rescuer takes jobs from nodes whose lease lapsed, dead-node cleanup
// deletes rows long dead.

const node = (q: string, id: string, leaseSql: string) =>
  `insert into ${q}.nodes (node_id, node_types, hostname, pid, lease_expires_at) values ('${id}', '{worker}', 'h', 1, ${leaseSql})`;

const job = (q: string, nodeId: string, attempt: number, maxAttempts: number) =>
  `insert into ${q}.jobs (state, queue, task_id, body_hash, attempt, max_attempts, timeout_ms, captures, node_id, attempted_at)
   values ('executing', 'ad_hoc_worker', 't', 'h', ${attempt}, ${maxAttempts}, 1000, '{"json":{}}', '${nodeId}', now()) returning id::text`;

describe("node maintenance", () => {
  it("heartbeat: extends the lease, and registers again when the row is gone", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    await db.pool.query(node(db.q, "n1", "now() + interval '1 second'"));
    let registered = 0;
    const spec = heartbeatService({ pool: db.pool, quotedSchema: db.q, nodeId: "n1", intervalMs: 100, leaseTtlMs: 600_000, register: async () => void registered++ });
    await spec.run();
    const { rows } = await db.pool.query(`select lease_expires_at > now() + interval '5 minutes' as extended from ${db.q}.nodes where node_id = 'n1'`);
    expect(rows[0].extended).toBe(true);
    expect(registered).toBe(0);
    await db.pool.query(`delete from ${db.q}.nodes where node_id = 'n1'`);
    await spec.run();
    expect(registered).toBe(1);
  });

  it("rescuer: jobs of a node whose lease lapsed go back (or are discarded on their last attempt), with an event and a wake-up", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    await db.pool.query(node(db.q, "dead", "now() - interval '1 second'"));
    await db.pool.query(node(db.q, "alive", "now() + interval '1 hour'"));
    const again = (await db.pool.query(job(db.q, "dead", 1, 3))).rows[0].id;
    const last = (await db.pool.query(job(db.q, "dead", 3, 3))).rows[0].id;
    const kept = (await db.pool.query(job(db.q, "alive", 1, 3))).rows[0].id;
    const events = new DurableEmitter();
    const rescued: unknown[] = [];
    events.on("job:rescue", (e) => rescued.push(...e.jobs));
    const woken: string[] = [];
    const warnings: string[] = [];
    const logger = { ...quietLogger, warn: (m: string) => void warnings.push(m) };
    await rescuerService({ pool: db.pool, quotedSchema: db.q, intervalMs: 100, events, logger, wake: (q) => woken.push(q) }).run();
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^durable: job ${last} discarded after attempt 3: node dead stopped heartbeating`))]);
    const state = async (id: string) => (await db.pool.query(`select state, errors->-1->>'code' as code from ${db.q}.jobs where id = $1`, [id])).rows[0];
    expect(await state(again)).toEqual({ state: "available", code: "DURABLE_NODE_LOST" });
    expect(await state(last)).toEqual({ state: "discarded", code: "DURABLE_NODE_LOST" });
    expect((await state(kept)).state).toBe("executing");
    expect(rescued).toHaveLength(2);
    expect(woken).toEqual(["ad_hoc_worker"]);
  });

  it("dead nodes: rows whose lease lapsed over a minute ago are deleted, others kept", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    await db.pool.query(node(db.q, "long-dead", "now() - interval '2 minutes'"));
    await db.pool.query(node(db.q, "just-dead", "now() - interval '5 seconds'"));
    await db.pool.query(node(db.q, "alive", "now() + interval '1 hour'"));
    await deadNodesService({ pool: db.pool, quotedSchema: db.q, intervalMs: 100 }).run();
    // (The run: false instance lists itself as a node too; only the rows above are looked at.)
    const { rows } = await db.pool.query(`select node_id from ${db.q}.nodes where node_id in ('long-dead', 'just-dead', 'alive') order by node_id`);
    expect(rows.map((r) => r.node_id)).toEqual(["alive", "just-dead"]);
  });
});
