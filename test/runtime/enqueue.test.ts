import { describe, expect, it } from "vitest";
import pg from "pg";
import { nextEvent, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { NotSerializableError, UntransformedCallError, InvalidOptionError } from "../../src/errors.js";
import { DurableInstance } from "../../src/instance.js";

describe("enqueue", () => {
  it("inserts one job and returns its handle after commit", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const job = await d.async(tasks.echo, { value: "hi" }, { meta: { orgId: 1 }, tags: ["welcome"], priority: 3, maxAttempts: 4, timeout: "2m" });
    const { rows } = await db.pool.query(`select * from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0]).toMatchObject({ state: "available", queue: "ad_hoc_worker", task_id: "test#echo", body_hash: "h-test#echo", priority: 3, max_attempts: 4, timeout_ms: 120_000, meta: { orgId: 1 }, tags: ["welcome"], attempt: 0 });
    const task = await db.pool.query(`select * from ${db.q}.tasks where task_id = 'test#echo'`);
    expect(task.rows[0]).toMatchObject({ file: "test/support/tasks.mjs", capture_names: ["value"] });
  });

  it("bulk inserts 12,000 jobs in order, in three statements", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const items = Array.from({ length: 12_000 }, (_, n) => [tasks.record, { n }, { priority: n % 10 }] as [any, any, any]);
    const handles = await d.asyncMany(items);
    expect(handles).toHaveLength(12_000);
    const { rows } = await db.pool.query(`select id::text as id, (captures->'json'->>'n')::int as n, priority from ${db.q}.jobs j order by j.id`);
    expect(rows.map((r) => r.n)).toEqual(items.map((_, n) => n));
    // Ten option templates interleaved row by row: each row kept its own.
    expect(rows.every((r) => r.priority === r.n % 10)).toBe(true);
    expect(handles.map((h) => h.id)).toEqual(rows.map((r) => r.id));
  });

  it("validates equal options once but never reuses them after the caller changes them", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const options = { priority: 1, tags: ["a"] };
    await d.async(tasks.echo, { value: 1 }, options);
    await d.async(tasks.echo, { value: 2 }, { priority: 1, tags: ["a"] });
    options.priority = 7;
    options.tags.push("b");
    await d.async(tasks.echo, { value: 3 }, options);
    const { rows } = await db.pool.query(`select priority, tags from ${db.q}.jobs order by id`);
    expect(rows).toEqual([{ priority: 1, tags: ["a"] }, { priority: 1, tags: ["a"] }, { priority: 7, tags: ["a", "b"] }]);
  });

  it("commits or rolls back with the caller's transaction", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("begin");
      const kept = await d.async(tasks.echo, { value: 1 }, { client });
      const outside = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`);
      expect(outside.rows[0].n).toBe(0); // not visible before commit
      await client.query("commit");
      await client.query("begin");
      await d.async(tasks.echo, { value: 2 }, { client });
      await client.query("rollback");
      const { rows } = await db.pool.query(`select id::text from ${db.q}.jobs`);
      expect(rows.map((r) => r.id)).toEqual([kept.id]);
    } finally {
      await client.end();
    }
  });

  it("the insert notification waits for the caller's commit", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query("begin");
    const job = await d.async(tasks.add, { a: 1, b: 2 }, { client });
    await client.query("commit");
    await client.end();
    expect(await d.await(job, { timeout: "10s" })).toBe(3);
  });

  it("throws at the call site for a capture that cannot be serialized, naming its path", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    class Session {
      token = "t";
    }
    const capture = () => d.async(tasks.echo, { value: { email: "a@b.c", session: new Session() } });
    expect(capture).toThrow(NotSerializableError);
    expect(capture).toThrow(/captures\.value\.session is an instance of Session, which is not registered with superjson/);
    expect(capture).toThrow(/test\/support\/tasks\.mjs:1:1/);
    expect(() => d.async(tasks.echo, { value: { save() {} } })).toThrow(/captures\.value\.save is a function/);
    expect(() => d.async(tasks.echo, { value: Promise.resolve(1) })).toThrow(/captures\.value is a Promise/);
    expect(() => d.async(tasks.echo, { value: new WeakMap() })).toThrow(/WeakMap/);
    expect(() => d.async(tasks.echo, { value: Symbol("s") })).toThrow(/symbol/);
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`);
    expect(rows[0].n).toBe(0);
  });

  it("an untransformed call fails loudly with its location and how to fix it", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const call = () => d.async(() => "never serialized");
    expect(call).toThrow(UntransformedCallError);
    expect(call).toThrow(/enqueue\.test\.ts:\d+/);
    expect(call).toThrow(/durable-async\/register/);
    expect(() => d.async("task" as any, {})).toThrow(InvalidOptionError);
  });

  it("reports a fire-and-forget insert failure as an event and a log line, never silently", async () => {
    const db = await testDatabase();
    const logged: string[] = [];
    const d = await db.start({ run: false, logger: { debug() {}, info() {}, warn() {}, error: (m: string, f: any) => logged.push(`${m} ${f.caller}`) } });
    await db.pool.query(`alter table ${db.q}.jobs add constraint no_inserts check (queue <> 'ad_hoc_worker')`);
    const reported = nextEvent<any>((l) => d.on("job:insert-error", l));
    void d.async(tasks.echo, { value: 1 }); // not awaited
    const event = await reported;
    expect(event.task).toBe("test#echo");
    expect(event.caller).toBe("test/support/tasks.mjs:1:1");
    expect(event.error.message).toMatch(/no_inserts/);
    expect(logged[0]).toMatch(/enqueue failed test\/support\/tasks\.mjs:1:1/);
  });

  it("stop() waits for inserts still in flight", async () => {
    const db = await testDatabase();
    const d = new DurableInstance({ database: db.url, schema: db.schema, run: false, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    for (let n = 0; n < 50; n++) void d.async(tasks.record, { n });
    await d.stop();
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`);
    expect(rows[0].n).toBe(50);
  });
});

describe("bulk scope", () => {
  it("collects every async() made inside bulk() into one insert and resolves each handle", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const inside: Array<Promise<any>> = [];
    const handles = await d.bulk(async () => {
      for (let n = 0; n < 300; n++) inside.push(d.async(tasks.record, { n }));
      await Promise.resolve();
      inside.push(d.async(tasks.record, { n: 300 }));
    });
    expect(handles).toHaveLength(301);
    expect((await Promise.all(inside)).map((h) => h.id)).toEqual(handles.map((h) => h.id));
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`);
    expect(rows[0].n).toBe(301);
  });

  it("inserts nothing when the scope throws", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    let pending: Promise<unknown> | undefined;
    await expect(d.bulk(() => {
      pending = d.async(tasks.record, { n: 1 });
      throw new Error("changed my mind");
    })).rejects.toThrow("changed my mind");
    await expect(pending).rejects.toThrow("changed my mind");
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`);
    expect(rows[0].n).toBe(0);
  });
});
