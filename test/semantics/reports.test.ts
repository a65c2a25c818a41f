import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";

// A real gc() without --expose-gc, so "flat" is measured on live memory, not on garbage waiting for collection.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
import { testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";

async function seed(db: Awaited<ReturnType<typeof testDatabase>>, rows: string) {
  await db.pool.query(`
    insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, meta, tags, inserted_at, attempted_at, completed_at, finished_at, discarded_at)
    select s.state, s.queue, s.task, 'h', 1, 1000, '{}', s.meta::jsonb, s.tags::text[], s.inserted::timestamptz,
           case when s.state <> 'available' then s.inserted::timestamptz end,
           case when s.state = 'completed' then s.inserted::timestamptz + interval '1 minute' end,
           case when s.state in ('completed','discarded') then s.inserted::timestamptz + interval '1 minute' end,
           case when s.state = 'discarded' then s.inserted::timestamptz + interval '1 minute' end
    from (values ${rows}) as s(state, queue, task, meta, tags, inserted)`);
}

describe("reports", () => {
  it("list, stream and count by state group, queue, task, meta, tags and time ranges", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await seed(db, `
      ('completed', 'sms', 'send', '{"orgId": 1}', '{a}', '2026-01-01T10:00:00Z'),
      ('completed', 'sms', 'send', '{"orgId": 2}', '{a,b}', '2026-01-02T10:00:00Z'),
      ('discarded', 'sms', 'send', '{"orgId": 1}', '{}', '2026-01-02T11:00:00Z'),
      ('available', 'sms', 'send', '{"orgId": 1}', '{b}', '2026-01-03T10:00:00Z'),
      ('completed', 'mail', 'mail', '{"orgId": 1}', '{}', '2026-01-03T10:00:00Z')`);
    expect(await d.jobs.count()).toBe(5);
    expect(await d.jobs.count({ state: "sent" })).toBe(3);
    expect(await d.jobs.count({ state: ["failed", "pending"] })).toBe(2);
    expect(await d.jobs.count({ queue: "sms", meta: { orgId: 1 } })).toBe(3);
    expect(await d.jobs.count({ task: "se*" })).toBe(4);
    expect(await d.jobs.count({ tags: ["a", "b"] })).toBe(1);
    expect(await d.jobs.count({ inserted: { from: new Date("2026-01-02T00:00:00Z"), to: new Date("2026-01-03T00:00:00Z") } })).toBe(2);
    expect(await d.jobs.count({ completed: { from: new Date("2026-01-02T00:00:00Z") } })).toBe(2);
    expect(await d.jobs.count({ since: new Date("2026-01-03T00:00:00Z"), state: "completed" })).toBe(1);

    const first = await d.jobs.list({ queue: "sms" }, { limit: 3 });
    expect(first.jobs).toHaveLength(3);
    expect(first.jobs[0]).toMatchObject({ queue: "sms", task: "send", state: "available", meta: { orgId: 1 }, tags: ["b"] });
    const second = await d.jobs.list({ queue: "sms" }, { limit: 3, after: first.next });
    expect(second).toMatchObject({ next: null });
    expect([...first.jobs, ...second.jobs].map((j) => j.id)).toEqual([...first.jobs, ...second.jobs].map((j) => j.id).sort((a, b) => Number(b) - Number(a)));
    expect(second.jobs[0]!.lastError).toBeNull();

    const streamed = [];
    for await (const job of d.jobs.stream({ state: "sent" }, { batchSize: 1 })) streamed.push(job.id);
    expect(streamed).toHaveLength(3);
  });

  it("the SMS report is one call: messages per org by status over a time range, as CSV", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await seed(db, `
      ('completed', 'sms', 'send', '{"orgId": 1}', '{}', '2026-01-01T10:00:00Z'),
      ('completed', 'sms', 'send', '{"orgId": 1}', '{}', '2026-01-01T11:00:00Z'),
      ('discarded', 'sms', 'send', '{"orgId": 1}', '{}', '2026-01-01T12:00:00Z'),
      ('available', 'sms', 'send', '{"orgId": 2}', '{}', '2026-01-01T12:00:00Z'),
      ('completed', 'sms', 'send', '{"orgId": 2}', '{}', '2026-01-05T12:00:00Z'),
      ('completed', 'sms', 'send', '{"other": 1}', '{}', '2026-01-01T12:00:00Z')`);
    const csv = await d.jobs.reportCsv({ by: "orgId", filter: { task: "send", inserted: { from: new Date("2026-01-01T00:00:00Z"), to: new Date("2026-01-02T00:00:00Z") } } });
    expect(csv).toBe("orgId,sent,failed,pending,executing,total\r\n1,2,1,0,0,3\r\n2,0,0,1,0,1\r\n,1,0,0,0,1\r\n");
  });

  it("CSV cells are escaped and formula-safe", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.async(t.echo, { value: 1 }, { meta: { note: '=HYPERLINK("x"), "quoted"\nline' } });
    let text = "";
    await pipeline(d.jobs.csv({}, { columns: ["id", "meta"] }), new Writable({ write(chunk, _e, cb) { text += chunk; cb(); } }));
    const [header, row] = text.split("\r\n");
    expect(header).toBe("id,meta");
    expect(row).toMatch(/^\d+,"{""note"":""=HYPERLINK/);
    const bad = await d.async(t.echo, { value: 2 }, { meta: { note: "=1+1" } });
    text = "";
    await pipeline(d.jobs.csv({ id: bad.id }, { columns: ["id", "last_error", "tags"] }), new Writable({ write(chunk, _e, cb) { text += chunk; cb(); } }));
    expect(text).toBe(`id,last_error,tags\r\n${bad.id},,\r\n`);
  });

  it("streaming 100,000 jobs to CSV keeps memory flat", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await db.pool.query(`
      insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, meta, tags, inserted_at, attempted_at, completed_at, finished_at)
      select 'completed', 'sms', 'src/sms.ts#send#0', 'h', 3, 60000, '{}', jsonb_build_object('orgId', i % 50, 'sender', '+1555' || i, 'body', repeat('x', 80)),
             '{sms,outbound}', now() - interval '1 hour', now() - interval '59 minutes', now() - interval '58 minutes', now() - interval '58 minutes'
      from generate_series(1, 100000) i`);
    // As autovacuum would after a load this size: without statistics the planner sorts every page.
    await db.pool.query(`analyze ${db.q}.jobs_finished`);
    gc();
    const base = process.memoryUsage();
    let peakRss = base.rss;
    let peakHeap = base.heapUsed;
    const liveAt: number[] = [];
    let lines = 0;
    let bytes = 0;
    const started = Date.now();
    await pipeline(
      d.jobs.csv({ state: "sent", queue: "sms" }),
      new Writable({
        write(chunk: Buffer, _e, cb) {
          bytes += chunk.length;
          const before = lines;
          for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
          const m = process.memoryUsage();
          peakRss = Math.max(peakRss, m.rss);
          peakHeap = Math.max(peakHeap, m.heapUsed);
          // Live heap after a full GC, every 20,000 rows: it must not grow with the rows streamed.
          if (Math.floor(lines / 20_000) > Math.floor(before / 20_000)) {
            gc();
            liveAt.push(process.memoryUsage().heapUsed);
          }
          cb();
        },
      }),
    );
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    console.log(
      `[csv 100k] ${lines - 1} rows, ${mb(bytes)} MB of CSV in ${Date.now() - started} ms; live heap after GC every 20k rows: ${liveAt.map(mb).join(", ")} MB ` +
        `(baseline ${mb(base.heapUsed)}); peak heapUsed incl. garbage ${mb(peakHeap)} MB; rss ${mb(base.rss)} -> peak ${mb(peakRss)} MB`,
    );
    expect(lines).toBe(100_001);
    expect(liveAt.length).toBe(5);
    // Flat: the live heap at 100k rows is within a few MB of the live heap at 20k rows, and of the baseline
    // (the CSV is ~30 MB; holding it or the rows would show up here many times over).
    expect(Math.abs(liveAt[4]! - liveAt[0]!)).toBeLessThan(4 * 1024 * 1024);
    expect(Math.max(...liveAt) - base.heapUsed).toBeLessThan(8 * 1024 * 1024);
  });
});
