import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { createCodec, DecryptionError, resolveEncryption, type KeyRing } from "../../src/serialize/encryption.js";
import { sealPlaces } from "../../src/serialize/codec.js";
import { JobFailedError } from "../../src/errors.js";

// A sealed value is bound to its place: the column and the row it was written
// for. Copied anywhere else (another job's row, another column) it fails
// authentication; values sealed before places existed (v1) still open where
// they can have been written.

const newKey = () => randomBytes(32).toString("base64");
const ring = (key: string, previousKeys: string[] = []) => resolveEncryption({ key, previousKeys }) as KeyRing;

/** An envelope as the previous release wrote it: AES-256-GCM with the constant additional data "durable-async:v1". */
function sealV1(key: string, payload: unknown) {
  const [kid, material] = key.split(":") as [string, string];
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(material, "base64"), iv);
  cipher.setAAD(Buffer.from("durable-async:v1"));
  const ct = Buffer.concat([cipher.update(JSON.stringify(payload), "utf8"), cipher.final()]);
  return { enc: "v1", kid, iv: iv.toString("base64"), tag: cipher.getAuthTag().toString("base64"), ct: ct.toString("base64") };
}

const failure = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return error as DecryptionError;
  }
  throw new Error("expected a DecryptionError");
};

describe("sealed values are bound to their place", () => {
  it("opens only at the column and row it was sealed for", () => {
    const codec = createCodec(ring(newKey()));
    const here = sealPlaces.captures("task#a", "6f1c2d8e-0000-4000-8000-000000000001");
    const stored = codec.encode({ json: { to: "ada@example.com" } }, here);
    expect(codec.decode(stored, here)).toEqual({ json: { to: "ada@example.com" } });
    const elsewhere = [
      sealPlaces.captures("task#a", "6f1c2d8e-0000-4000-8000-000000000002"), // another row of the same task
      sealPlaces.captures("task#b", "6f1c2d8e-0000-4000-8000-000000000001"), // the same row key under another task
      sealPlaces.captures("task#a", null), // a row without a row key
      sealPlaces.result("1"), // another column
      { column: "jobs.meta", row: here.row }, // the same row, another column
    ];
    for (const place of elsewhere) {
      const error = failure(() => codec.decode(stored, place));
      expect(error, JSON.stringify(place)).toBeInstanceOf(DecryptionError);
      expect(error.code).toBe("DURABLE_ENCRYPTION_TAMPERED");
      expect(error.message).toMatch(/moved from another row or column/);
    }
    // Results: the job id is the row.
    const result = codec.encode({ json: 42 }, sealPlaces.result("10"));
    expect(codec.decode(result, sealPlaces.result("10"))).toEqual({ json: 42 });
    expect(failure(() => codec.decode(result, sealPlaces.result("100"))).code).toBe("DURABLE_ENCRYPTION_TAMPERED");
    expect(failure(() => codec.decode(result, sealPlaces.result("1"))).code).toBe("DURABLE_ENCRYPTION_TAMPERED");
  });

  it("opens v1 envelopes where they can have been written, and refuses one in a row with a row key", () => {
    const key = `k1:${newKey()}`;
    const codec = createCodec(ring(`k2:${newKey()}`, [key]));
    const old = sealV1(key, { json: { a: 1 } });
    expect(codec.decode(old, sealPlaces.captures("task#a", null))).toEqual({ json: { a: 1 } });
    expect(codec.decode(old, sealPlaces.result("5"))).toEqual({ json: { a: 1 } });
    expect(failure(() => codec.decode(old, sealPlaces.captures("task#a", "6f1c2d8e-0000-4000-8000-000000000001"))).code).toBe("DURABLE_ENCRYPTION_TAMPERED");
  });
});

describe("binding, end to end on Postgres", () => {
  const moveCaptures = (db: { pool: any; q: string }, from: string, to: string, withRowKey = false) =>
    db.pool.query(
      `update ${db.q}.jobs j set captures = s.captures${withRowKey ? ", row_key = s.row_key" : ""} from ${db.q}.jobs s where s.id = $1 and j.id = $2`,
      [from, to],
    );

  it("captures copied into another job's row fail that job alone, with or without its row key", async () => {
    const db = await testDatabase();
    const key = newKey();
    const producer = await db.start({ encryption: { key }, run: false });
    const source = await producer.async(tasks.add, { a: 1, b: 2 });
    const sameTask = await producer.async(tasks.add, { a: 10, b: 20 });
    const otherTask = await producer.async(tasks.echo, { value: "mine" });
    const { rows } = await db.pool.query(`select row_key from ${db.q}.jobs where id = any($1::bigint[]) order by id`, [[source.id, sameTask.id, otherTask.id]]);
    expect(rows.every((r) => typeof r.row_key === "string")).toBe(true);
    expect(new Set(rows.map((r) => r.row_key)).size).toBe(3);
    await moveCaptures(db, source.id, sameTask.id);
    // The row key copied along: the task still differs.
    await moveCaptures(db, source.id, otherTask.id, true);
    const worker = await db.start({ encryption: { key } });
    expect(await worker.await(source, { timeout: "10s" })).toBe(3);
    for (const moved of [sameTask, otherTask]) {
      const error: any = await worker.await(moved, { timeout: "10s" }).catch((e: any) => e);
      expect(error).toBeInstanceOf(JobFailedError);
      expect(error.lastError.code).toBe("DURABLE_BAD_JOB");
      expect(error.lastError.message).toMatch(/failed authentication: it was modified, moved from another row or column/);
    }
  });

  it("a result copied into another row or column fails authentication; the original still reads", async () => {
    const db = await testDatabase();
    const key = newKey();
    const first = await db.start({ encryption: { key } });
    const a = await first.async(tasks.add, { a: 1, b: 2 });
    const b = await first.async(tasks.add, { a: 3, b: 4 });
    expect(await first.await(a, { timeout: "10s" })).toBe(3);
    expect(await first.await(b, { timeout: "10s" })).toBe(7);
    await first.stop({ grace: "5s" });

    await db.pool.query(`update ${db.q}.jobs j set result = s.result from ${db.q}.jobs s where s.id = $1 and j.id = $2`, [a.id, b.id]);
    const reader = await db.start({ encryption: { key }, run: false });
    expect(await reader.await(a, { timeout: "10s" })).toBe(3);
    const moved: any = await reader.await(b, { timeout: "10s" }).catch((e: any) => e);
    expect(moved).toBeInstanceOf(DecryptionError);
    expect(moved.code).toBe("DURABLE_ENCRYPTION_TAMPERED");

    // Captures into the result column of the same row.
    await db.pool.query(`update ${db.q}.jobs set result = captures where id = $1`, [a.id]);
    expect(((await reader.await(a, { timeout: "10s" }).catch((e: any) => e)) as any).code).toBe("DURABLE_ENCRYPTION_TAMPERED");

    // A result into the captures column of a queued job.
    const queued = await reader.async(tasks.add, { a: 5, b: 5 });
    await db.pool.query(`update ${db.q}.jobs j set captures = s.result from ${db.q}.jobs s where s.id = $1 and j.id = $2`, [b.id, queued.id]);
    const worker = await db.start({ encryption: { key } });
    const error: any = await worker.await(queued, { timeout: "10s" }).catch((e: any) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.lastError.message).toMatch(/failed authentication/);
  });

  it("v1 captures and results written by the previous release still open; a v1 value planted in a keyed row does not", async () => {
    const db = await testDatabase();
    const key = `k1:${newKey()}`;
    const plain = await db.start({ encryption: false, run: false });
    const oldRow = await plain.async(tasks.add, { a: 0, b: 0 });
    await db.pool.query(`update ${db.q}.jobs set captures = $2::json where id = $1`, [oldRow.id, JSON.stringify(sealV1(key, { json: { a: 5, b: 6 } }))]);
    const keyed = await (await db.start({ encryption: { key }, run: false })).async(tasks.add, { a: 1, b: 1 });
    await db.pool.query(`update ${db.q}.jobs set captures = $2::json where id = $1`, [keyed.id, JSON.stringify(sealV1(key, { json: { a: 7, b: 8 } }))]);

    // A rotated worker: the v1 values were sealed with what is now a previous key.
    const worker = await db.start({ encryption: { key: `k2:${newKey()}`, previousKeys: [key] } });
    expect(await worker.await(oldRow, { timeout: "10s" })).toBe(11);
    const error: any = await worker.await(keyed, { timeout: "10s" }).catch((e: any) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.lastError.message).toMatch(/failed authentication/);

    await db.pool.query(`update ${db.q}.jobs set result = $2::json where id = $1`, [oldRow.id, JSON.stringify(sealV1(key, { json: 99 }))]);
    expect(await worker.await(oldRow, { timeout: "10s" })).toBe(99);
  });

  it("rotation: captures and results sealed under the old key run and read after the swap", async () => {
    const db = await testDatabase();
    const [oldKey, newer] = [`old:${newKey()}`, `new:${newKey()}`];
    const before = await db.start({ encryption: { key: oldKey } });
    const done = await before.async(tasks.add, { a: 2, b: 3 });
    expect(await before.await(done, { timeout: "10s" })).toBe(5);
    await before.stop({ grace: "5s" });
    const queued = await (await db.start({ encryption: { key: oldKey }, run: false })).async(tasks.add, { a: 4, b: 4 });

    const after = await db.start({ encryption: { key: newer, previousKeys: [oldKey] } });
    expect(await after.await(done, { timeout: "10s" })).toBe(5);
    expect(await after.await(queued, { timeout: "10s" })).toBe(8);
    const fresh = await after.async(tasks.add, { a: 1, b: 1 });
    expect(await after.await(fresh, { timeout: "10s" })).toBe(2);
    const { rows } = await db.pool.query(`select id::text, captures->>'kid' as c, result->>'kid' as r, captures->>'enc' as enc from ${db.q}.jobs order by id`);
    expect(rows.find((r) => r.id === queued.id)).toMatchObject({ c: "old", r: "new", enc: "v2" });
    expect(rows.find((r) => r.id === fresh.id)).toMatchObject({ c: "new", r: "new", enc: "v2" });
  });
});
