import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";

const child = fileURLToPath(new URL("../support/unique-child.mjs", import.meta.url));
const sender = (s: string) => ({ maxAttempts: 1, meta: { sender: s, orgId: 7 }, unique: { by: ["meta" as const], keys: ["sender"], period: "24h" } });

describe("unique jobs", () => {
  it("50 concurrent inserts from 5 processes make exactly one job, and every caller gets its id", async () => {
    const db = await testDatabase();
    await db.start({ run: false }); // migrates the schema before the children race
    const children = Array.from({ length: 5 }, () => fork(child, [db.url, db.schema, "10"], { stdio: "inherit" }));
    const ready = children.map((c) => new Promise((resolve) => c.once("message", resolve)));
    await Promise.all(ready);
    const results = children.map((c) => new Promise<Array<{ id: string; conflict: boolean }>>((resolve) => c.once("message", (m: any) => resolve(m.handles))));
    for (const c of children) c.send("go");
    const handles = (await Promise.all(results)).flat();
    expect(handles).toHaveLength(50);
    const ids = new Set(handles.map((h) => h.id));
    expect(ids.size).toBe(1);
    expect(handles.filter((h) => !h.conflict)).toHaveLength(1);
    const { rows } = await db.pool.query(`select id::text from ${db.q}.jobs`);
    expect(rows.map((r) => r.id)).toEqual([...ids]);
  });

  it("a unique insert in a transaction that rolls back does not block the next caller", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      const first = await d.async(t.replyToUnknown, { sender: "a" }, { ...sender("a"), client });
      expect(first.conflict).toBe(false);
      // A second caller waits on the key's lock while the first transaction is open…
      const second = d.async(t.replyToUnknown, { sender: "a" }, sender("a"));
      await eventually("the second caller to wait on the advisory lock", async () => {
        const { rows } = await db.pool.query(`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`);
        return rows[0].n > 0;
      });
      await client.query("rollback");
      // …and inserts as soon as the first rolls back.
      const handle = await second;
      expect(handle.conflict).toBe(false);
      expect(handle.id).not.toBe(first.id);
    } finally {
      client.release();
    }
    const third = await d.async(t.replyToUnknown, { sender: "a" }, sender("a"));
    expect(third.conflict).toBe(true);
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`);
    expect(rows[0].n).toBe(1);
  });

  it("inside the caller's committed transaction, the job commits with it and later callers conflict", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const client = await db.pool.connect();
    await client.query("begin");
    await client.query("select 1");
    const inTx = await d.async(t.echo, { value: 1 }, { unique: { period: "forever" }, client });
    await client.query("commit");
    client.release();
    const again = await d.async(t.echo, { value: 1 }, { unique: { period: "forever" } });
    expect(again).toMatchObject({ id: inTx.id, conflict: true });
    const other = await d.async(t.echo, { value: 2 }, { unique: { period: "forever" } });
    expect(other.conflict).toBe(false);
  });

  it("after the period passes, a new job is inserted (sliding window)", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const opts = { unique: { period: "10m" } };
    const first = await d.async(t.echo, { value: "x" }, opts);
    expect((await d.async(t.echo, { value: "x" }, opts)).conflict).toBe(true);
    // Age the job instead of sleeping: 9 minutes old still conflicts, 11 minutes old does not.
    await db.pool.query(`update ${db.q}.jobs set inserted_at = now() - interval '9 minutes'`);
    expect(await d.async(t.echo, { value: "x" }, opts)).toMatchObject({ id: first.id, conflict: true });
    await db.pool.query(`update ${db.q}.jobs set inserted_at = now() - interval '11 minutes'`);
    const next = await d.async(t.echo, { value: "x" }, opts);
    expect(next.conflict).toBe(false);
    expect(next.id).not.toBe(first.id);
  });

  it("scenario: an unknown sender is replied to at most once per 24h", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const incoming = ["+1555A", "+1555B", "+1555A", "+1555A", "bounce-C", "+1555B"];
    const handles = [];
    for (const s of incoming) handles.push(await d.async(t.replyToUnknown, { sender: s }, sender(s)));
    expect(handles.map((h) => h.conflict)).toEqual([false, false, true, true, false, true]);
    // A conflicting caller awaits the first caller's job and gets its result.
    expect(await d.await(handles[3]!, { timeout: "10s" })).toBe("replied to +1555A");
    expect(await d.await(handles[5]!, { timeout: "10s" })).toBe("replied to +1555B");
    await expect(d.await(handles[4]!, { timeout: "10s" })).rejects.toMatchObject({ code: "DURABLE_JOB_FAILED" });
    // A discarded reply does not count: the next message from that sender is answered.
    const retry = await d.async(t.replyToUnknown, { sender: "bounce-C" }, sender("bounce-C"));
    expect(retry.conflict).toBe(false);
    // A completed reply counts for 24h; 25h later the sender is answered again.
    expect((await d.async(t.replyToUnknown, { sender: "+1555A" }, sender("+1555A"))).conflict).toBe(true);
    await db.pool.query(`update ${db.q}.jobs set inserted_at = inserted_at - interval '25 hours' where meta->>'sender' = '+1555A'`);
    const later = await d.async(t.replyToUnknown, { sender: "+1555A" }, sender("+1555A"));
    expect(later.conflict).toBe(false);
    const { rows } = await db.pool.query(`select meta->>'sender' as s, count(*)::int as n from ${db.q}.jobs group by 1 order by 1`);
    expect(rows).toEqual([{ s: "+1555A", n: 2 }, { s: "+1555B", n: 1 }, { s: "bounce-C", n: 2 }]);
  });

  it("bulk inserts honour uniqueness per row, within the batch and against existing jobs", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const existing = await d.async(t.echo, { value: 1 }, { unique: { period: "1h" } });
    const handles = await d.asyncMany([
      [t.echo, { value: 1 }, { unique: { period: "1h" } }],
      [t.echo, { value: 2 }, { unique: { period: "1h" } }],
      [t.echo, { value: 2 }, { unique: { period: "1h" } }],
      [t.echo, { value: 3 }],
      [t.echo, { value: 3 }],
    ]);
    expect(handles.map((h) => h.conflict)).toEqual([true, false, true, false, false]);
    expect(handles[0]!.id).toBe(existing.id);
    expect(handles[2]!.id).toBe(handles[1]!.id);
    expect(handles[3]!.id).not.toBe(handles[4]!.id);
  });

  it("two pools inserting overlapping bulk batches at once, in opposite orders: one job per key, every row gets its id", async () => {
    const db = await testDatabase();
    const [a, b] = [await db.start({ run: false }), await db.start({ run: false })];
    const opts = { unique: { period: "1h" } };
    const batch = (values: number[]) => values.map((value) => [t.echo, { value }, opts] as [typeof t.echo, { value: number }, typeof opts]);
    for (let round = 0; round < 5; round++) {
      // 0..299 from one side, 200..499 backwards from the other: 100 keys both want at the same moment.
      const left = Array.from({ length: 300 }, (_, i) => round * 1000 + i);
      const right = Array.from({ length: 300 }, (_, i) => round * 1000 + 499 - i);
      const [fromA, fromB] = await Promise.all([a.asyncMany(batch(left)), b.asyncMany(batch(right))]);
      const byValue = new Map<number, Array<{ id: string; conflict: boolean }>>();
      [...left.map((v, i) => [v, fromA[i]!] as const), ...right.map((v, i) => [v, fromB[i]!] as const)].forEach(([v, h]) => byValue.set(v, [...(byValue.get(v) ?? []), h]));
      for (const [, handles] of byValue) {
        expect(new Set(handles.map((h) => h.id)).size).toBe(1);
        expect(handles.filter((h) => !h.conflict)).toHaveLength(1);
      }
    }
    const { rows } = await db.pool.query(`select count(*)::int as n, count(distinct unique_key)::int as keys from ${db.q}.jobs`);
    expect(rows[0]).toEqual({ n: 2500, keys: 2500 });
  });

  it("rows of one batch with different periods and states: each checked by its own, as if the calls came one after another", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const available = await d.async(t.echo, { value: "a" }, { unique: { period: "1h" } });
    const existingC = await d.async(t.echo, { value: "c" }, { unique: { period: "1h" } });
    const onlyScheduled = { unique: { period: "1h", states: ["scheduled"] } };
    const handles = await d.asyncMany([
      // Counts only scheduled jobs: the available one does not conflict.
      [t.echo, { value: "a" }, onlyScheduled],
      [t.echo, { value: "b" }, { unique: { period: "forever" } }],
      // Counts available jobs: conflicts with the newest, the one the first row inserted.
      [t.echo, { value: "a" }, { unique: { period: "2h" } }],
      [t.echo, { value: "b" }, { unique: { period: "forever" } }],
      // Conflicts with the job inserted before the batch; the next row, counting only scheduled jobs, does not.
      [t.echo, { value: "c" }, { unique: { period: "1h" } }],
      [t.echo, { value: "c" }, onlyScheduled],
    ]);
    expect(handles.map((h) => h.conflict)).toEqual([false, false, true, true, true, false]);
    expect(handles[0]!.id).not.toBe(available.id);
    expect(handles[2]!.id).toBe(handles[0]!.id);
    expect(handles[3]!.id).toBe(handles[1]!.id);
    expect(handles[4]!.id).toBe(existingC.id);
    expect(new Set(handles.map((h) => h.id)).size).toBe(4);
  });

  it("keys, by queue/task, states and replace", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    // keys: only `orgId` of the captures matters.
    const a = await d.async(t.echo, { value: { orgId: 1 } }, { meta: { orgId: 1, n: 1 }, unique: { by: ["meta"], keys: ["orgId"] } });
    const b = await d.async(t.echo, { value: { orgId: 1 } }, { meta: { orgId: 1, n: 2 }, unique: { by: ["meta"], keys: ["orgId"] } });
    expect(b).toMatchObject({ id: a.id, conflict: true });
    // by: ["task"] ignores captures entirely.
    const c = await d.async(t.replyToUnknown, { sender: "x" }, { unique: { by: ["task"] } });
    expect((await d.async(t.replyToUnknown, { sender: "y" }, { unique: { by: ["task"] } })).id).toBe(c.id);
    // states: only scheduled jobs conflict, so an available one does not.
    const s1 = await d.async(t.echo, { value: "s" }, { unique: { states: ["scheduled"] } });
    expect((await d.async(t.echo, { value: "s" }, { unique: { states: ["scheduled"] } })).id).not.toBe(s1.id);
    // replace: the conflicting job that has not started gets the new schedule and meta.
    const r1 = await d.async(t.echo, { value: "r" }, { delay: "1h", meta: { v: 1 }, unique: { replace: ["scheduled_at", "meta"] } });
    const r2 = await d.async(t.echo, { value: "r" }, { delay: "2h", meta: { v: 2 }, unique: { replace: ["scheduled_at", "meta"] } });
    expect(r2).toMatchObject({ id: r1.id, conflict: true, state: "scheduled" });
    const { rows } = await db.pool.query(`select meta, extract(epoch from run_at - now()) as secs from ${db.q}.jobs where id = $1`, [r1.id]);
    expect(rows[0].meta).toEqual({ v: 2 });
    expect(Number(rows[0].secs)).toBeGreaterThan(3600 * 1.5);
  });
});

describe("unique jobs on a caller's client outside a transaction", () => {
  it("runs its own transaction on an idle client", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const client = await db.pool.connect();
    try {
      const a = await d.async(t.echo, { value: "idle" }, { unique: { period: "1h" }, client });
      const b = await d.async(t.echo, { value: "idle" }, { unique: { period: "1h" }, client });
      expect(a.conflict).toBe(false);
      expect(b).toMatchObject({ id: a.id, conflict: true });
      // The client is left outside any transaction, as it was handed in.
      const { rows } = await client.query("select now() = statement_timestamp() as autocommit");
      expect(rows[0].autocommit).toBe(true);
    } finally {
      client.release();
    }
  });
});
