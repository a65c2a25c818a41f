import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import pg from "pg";
import { eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { decodeNotice } from "../../src/db/notifier.js";
import { carriedItem, openCarried, parseCarried } from "../../src/db/carried-results.js";
import { serializeChecked } from "../../src/serialize/values.js";
import type { DurableInstance } from "../../src/instance.js";

// Small results ride the completion notification, so durable.await() in
// another process needs no second read of the row. Any role that can
// connect may NOTIFY, so a carried result is taken only with a valid HMAC
// under the schema's notify key; anything else falls back to the row.

type Db = Awaited<ReturnType<typeof testDatabase>>;

/**
 * Counts the awaiter's reads of job rows on this instance's pool that found
 * the job ended: a result taken from the notification needs none (reads
 * that find it unfinished, the first and the polls, do not count).
 */
function countFinishedReads(instance: DurableInstance): { all: () => number; finished: () => number } {
  let all = 0;
  let finished = 0;
  const pool = instance.pool as pg.Pool & { connect: (...args: any[]) => any };
  const connect = pool.connect.bind(pool);
  pool.connect = (...args: any[]) => {
    // pool.query() connects with a callback: only the awaiter's own checkouts (promises) are counted.
    if (args.length > 0) return connect(...args);
    return (connect() as Promise<any>).then((client) => countOn(client));
  };
  const countOn = (client: any) => {
    if (!client.countedReads) {
      client.countedReads = true;
      const query = client.query.bind(client);
      client.query = (config: any, ...rest: any[]) => {
        const answer = query(config, ...rest);
        if (typeof config === "object" && String(config?.name).startsWith("durable-await-") && typeof answer?.then === "function") {
          all++;
          answer.then((r: pg.QueryResult) => void (r.rows[0]?.state !== "available" && finished++), () => undefined);
        }
        return answer;
      };
    }
    return client;
  };
  return { all: () => all, finished: () => finished };
}

/** Collects the payloads sent on the schema's done channel. */
async function listenDone(db: Db, instance: DurableInstance): Promise<{ payloads: string[]; stop: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const payloads: string[] = [];
  client.on("notification", (m) => payloads.push(m.payload ?? ""));
  await client.query(`listen ${pg.escapeIdentifier(instance.channels.done)}`);
  return { payloads, stop: () => client.end() };
}

/** The schema's notify key, as a worker holding it would use it. */
async function schemaKey(db: Db): Promise<Buffer> {
  return Buffer.from((await db.pool.query(`select key from ${db.q}.notify_key`)).rows[0].key, "utf8");
}

const storedText = (value: unknown) => JSON.stringify(serializeChecked(value, "result", "a test"));

const awkward = ["a,b,,c", "100% of %2C and %25", "x".repeat(2_000), { nested: ["é", "😀", "\u2028"], date: new Date(0), map: new Map([[1, "a,b"]]) }, undefined, null, 0, ""];

describe("results carried by the done notification", () => {
  // A notice signed with the schema's key for a job no worker has run: the
  // awaiter can only have its value from the notice, never from the row.
  it("await takes a signed result from the notification, exactly, without reading it from the row", async () => {
    const db = await testDatabase();
    const client = await db.start({ run: false });
    const key = await schemaKey(db);
    const reads = countFinishedReads(client);
    for (const value of awkward) {
      const job = await client.async(tasks.echo, { value: "never run" });
      const before = reads.all();
      const result = client.await(job, { timeout: "20s" });
      await eventually("the first read", () => reads.all() > before);
      await db.pool.query("select pg_notify($1, $2)", [client.channels.done, `${job.id},${carriedItem(key, job.id, storedText(value))}`]);
      expect(await result).toEqual(value);
    }
    expect(reads.finished()).toBe(0);
  });

  it("a worker's completion carries the result: an awaiter in another process gets it, and the payload holds it", async () => {
    const db = await testDatabase();
    const client = await db.start({ run: false });
    const listener = await listenDone(db, client);
    const jobs = await client.asyncMany(awkward.map((value) => [tasks.echo, { value }] as [typeof tasks.echo, Record<string, unknown>]));
    await db.start({ queues: { ad_hoc_worker: 2 } });
    expect(await client.awaitAll(jobs, { timeout: "20s" })).toEqual(awkward);
    await eventually("every completion notified", () => jobs.every((j) => listener.payloads.some((p) => p.split(",").includes(j.id))));
    for (const job of jobs) expect(listener.payloads.join(",")).toContain(`r${job.id}:`);
    await listener.stop();
  });

  it("a result over 2 KiB does not ride the notification; await reads it from the row", async () => {
    const db = await testDatabase();
    const client = await db.start({ run: false });
    const listener = await listenDone(db, client);
    const job = await client.async(tasks.echo, { value: "y".repeat(5_000) });
    await db.start({ queues: { ad_hoc_worker: 1 } });
    expect(await client.await(job, { timeout: "20s" })).toBe("y".repeat(5_000));
    await eventually("the notification", () => listener.payloads.some((p) => p.split(",").includes(job.id)));
    expect(listener.payloads.join(",")).not.toContain(`r${job.id}:`);
    await listener.stop();
  });

  it("with encryption on, the carried result is the sealed one (the payload never holds the plaintext)", async () => {
    const db = await testDatabase();
    const key = randomBytes(32).toString("base64");
    const client = await db.start({ run: false, encryption: { key } });
    const listener = await listenDone(db, client);
    const job = await client.async(tasks.echo, { value: "secret text" });
    await db.start({ queues: { ad_hoc_worker: 2 }, encryption: { key } });
    expect(await client.await(job, { timeout: "20s" })).toBe("secret text");
    await eventually("the notification", () => listener.payloads.some((p) => p.includes(`r${job.id}:`)));
    expect(listener.payloads.join(",")).not.toContain("secret text");
    await listener.stop();
  });

  it("a forged result on the done channel is not taken: the awaiter reads the row and waits on", async () => {
    const db = await testDatabase();
    const client = await db.start({ run: false });
    const job = await client.async(tasks.echo, { value: "genuine" });
    const reads = countFinishedReads(client);
    const result = client.await(job, { timeout: "20s" });
    await eventually("the first read", () => reads.all() === 1);
    const forgedKey = Buffer.from("not the schema's key");
    const forged = carriedItem(forgedKey, job.id, storedText("forged"));
    const malformed = `r${job.id}:${"A".repeat(22)}:{not json`;
    await db.pool.query("select pg_notify($1, $2)", [client.channels.done, `${job.id},${forged},${malformed}`]);
    await eventually("the forged notice was read past", () => reads.all() >= 2);
    await db.start({ queues: { ad_hoc_worker: 1 } });
    expect(await result).toBe("genuine");
  });

  it("notifyResults: false carries no result; await reads the row", async () => {
    const db = await testDatabase();
    const client = await db.start({ run: false, notifyResults: false });
    const listener = await listenDone(db, client);
    const job = await client.async(tasks.echo, { value: 7 });
    await db.start({ queues: { ad_hoc_worker: 1 }, notifyResults: false });
    expect(await client.await(job, { timeout: "20s" })).toBe(7);
    await eventually("the notification", () => listener.payloads.some((p) => p.split(",").includes(job.id)));
    expect(listener.payloads.join(",")).not.toContain(`r${job.id}:`);
    await listener.stop();
  });

  it("a batch of many completions keeps its notification under PostgreSQL's 8000-byte limit", async () => {
    const db = await testDatabase();
    const client = await db.start({ run: false });
    const listener = await listenDone(db, client);
    const jobs = await client.asyncMany(Array.from({ length: 300 }, (_, i) => [tasks.echo, { value: `${i}:${"z".repeat(1_500)}` }] as [typeof tasks.echo, Record<string, unknown>]));
    await db.start({ queues: { ad_hoc_worker: 50 } });
    const results = await client.awaitAll(jobs, { timeout: "60s" });
    expect(results).toEqual(jobs.map((_, i) => `${i}:${"z".repeat(1_500)}`));
    expect(listener.payloads.length).toBeGreaterThan(0);
    for (const payload of listener.payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8_000);
    await listener.stop();
  });
});

describe("the done payload", () => {
  it("older nodes' bare ids still decode; carried items round-trip commas and percent signs; bad items are skipped", () => {
    const key = Buffer.from("k".repeat(64));
    const stored = '{"json":"a,b %2C 100%"}';
    const payload = ["11", "12", carriedItem(key, "12", stored), carriedItem(key, "11", null), "r13:short:x", "rx:y", "14"].join(",");
    const notice = decodeNotice("done", payload)!;
    expect(notice.ids).toEqual(["11", "12", "14"]);
    expect(openCarried(key, notice.results.get("12")!)).toBe(stored);
    expect(openCarried(key, notice.results.get("11")!)).toBeNull();
    expect(notice.results.has("13")).toBe(false);
    expect(openCarried(Buffer.from("other"), notice.results.get("12")!)).toBeUndefined();
    // The same item for another job id fails its HMAC.
    expect(openCarried(key, { ...parseCarried(carriedItem(key, "12", stored))!, id: "99" })).toBeUndefined();
    expect(decodeNotice("done", "r12:abc")).toBeNull();
  });
});
