import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";

describe("bad job rows", () => {
  it("garbage captures fail only their own job, with a clear error, while other jobs run", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const good = await d.asyncMany([[tasks.add, { a: 1, b: 2 }], [tasks.add, { a: 3, b: 4 }]]);
    const insert = (captures: string) =>
      db.pool.query(
        `insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures) values ('available', 'ad_hoc_worker', 'test#add', 'h-test#add', 5, 1000, $1::jsonb) returning id::text`,
        [captures],
      );
    const bad = await Promise.all([insert(`"just a string"`), insert(`{"json": [1,2]}`), insert(`{"json": {"a": 1}, "meta": {"values": {"a": ["nonsense-type"]}}}`), insert(`{"no": "json key"}`)]);
    const runner = await db.start();
    expect(await runner.awaitAll(good, { timeout: "10s" })).toEqual([3, 7]);
    const ids = bad.map((r) => r.rows[0].id);
    await eventually("bad rows discarded", async () => {
      const { rows } = await db.pool.query(`select state from ${db.q}.jobs where id = any($1::bigint[])`, [ids]);
      return rows.every((r) => r.state === "discarded");
    });
    const { rows } = await db.pool.query(`select id::text, attempt, errors->0->>'code' as code, errors->0->>'message' as message from ${db.q}.jobs where id = any($1::bigint[]) order by id`, [ids]);
    for (const row of rows) {
      expect(row.code).toBe("DURABLE_BAD_JOB");
      expect(row.message).toMatch(new RegExp(`Job ${row.id} cannot run: its captures cannot be decoded`));
      expect(row.attempt).toBe(1); // discarded at once: retrying cannot fix it
    }
  });

  it("a job for a task no node has waits, then is discarded after the grace period naming the task and caller", async () => {
    const db = await testDatabase();
    const d = await db.start({ unknownTaskGrace: 200, heartbeatInterval: 100, leaseTtl: 1000 });
    await db.pool.query(`insert into ${db.q}.tasks (task_id, body_hash, file, fn, line, col, source) values ('gone#0', 'h', 'src/old.ts', 'old', 12, 3, '() => old()')`);
    const { rows } = await db.pool.query(
      `insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures) values ('available', 'ad_hoc_worker', 'gone#0', 'h', 5, 1000, '{"json":{}}') returning id::text`,
    );
    const ok = await d.async(tasks.add, { a: 1, b: 1 });
    expect(await d.await(ok)).toBe(2);
    const row = await eventually("unknown task discarded", async () => {
      const r = (await db.pool.query(`select state, attempt, errors from ${db.q}.jobs where id = $1`, [rows[0].id])).rows[0];
      return r.state === "discarded" ? r : undefined;
    });
    expect(row.attempt).toBe(0); // never claimed by a node that lacks the task
    expect(row.errors[0].code).toBe("DURABLE_UNKNOWN_TASK");
    expect(row.errors[0].message).toMatch(/No running node has task "gone#0" \(called from src\/old\.ts:12:3\)/);
  });

  it("a newer body hash runs when its capture names match, and is held when they differ", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await db.pool.query(
      `insert into ${db.q}.tasks (task_id, body_hash, file, line, col, source, capture_names) values
         ('test#add', 'compatible', 'x', 1, 1, 's', '{a,b}'), ('test#add', 'incompatible', 'x', 1, 1, 's', '{a,c}')`,
    );
    const insert = (hash: string) =>
      db.pool.query(
        `insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures) values ('available', 'ad_hoc_worker', 'test#add', $1, 5, 1000, '{"json":{"a":1,"b":2}}') returning id::text`,
        [hash],
      );
    const compatible = (await insert("compatible")).rows[0].id;
    const incompatible = (await insert("incompatible")).rows[0].id;
    const runner = await db.start();
    expect(await runner.await(compatible, { timeout: "10s" })).toBe(3);
    const ok = await runner.async(tasks.add, { a: 5, b: 5 });
    await runner.await(ok);
    const { rows } = await db.pool.query(`select state, attempt from ${db.q}.jobs where id = $1`, [incompatible]);
    expect(rows[0]).toEqual({ state: "available", attempt: 0 });
    void d;
  });
});
