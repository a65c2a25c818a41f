import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import {
  createCodec, decryptValue, DecryptionError, encryptValue, isEncrypted, resolveEncryption, revealStored, type KeyRing,
} from "../../src/serialize/encryption.js";
import { JobFailedError, InvalidOptionError } from "../../src/errors.js";
import { normalizeStartOptions } from "../../src/config/start.js";
import { sealPlaces } from "../../src/serialize/codec.js";

const newKey = () => randomBytes(32).toString("base64");
const ring = (key: string, previousKeys: string[] = []) => resolveEncryption({ key, previousKeys }) as KeyRing;
const place = sealPlaces.result("7");

describe("encryption codec", () => {
  it("seals a payload into a v2 envelope and opens it again", () => {
    const codec = createCodec(ring(newKey()));
    const payload = { json: { email: "ada@example.com" } };
    const stored = codec.encode(payload, place);
    expect((stored as any).enc).toBe("v2");
    expect(isEncrypted(stored)).toBe(true);
    expect(Object.keys(stored as object).sort()).toEqual(["ct", "enc", "iv", "kid", "tag"]);
    expect(JSON.stringify(stored)).not.toContain("ada@example.com");
    expect(codec.decode(stored, place)).toEqual(payload);
    // A fresh IV per value: the same payload never gives the same ciphertext.
    expect((codec.encode(payload, place) as any).ct).not.toBe((stored as any).ct);
  });

  it("rotates: encrypts with the current key, decrypts with any previous one", () => {
    const [oldKey, newer] = [newKey(), newKey()];
    const before = createCodec(ring(oldKey)).encode({ json: 1 }, place);
    const rotated = ring(newer, [oldKey]);
    const after = createCodec(rotated).encode({ json: 2 }, place);
    expect((after as any).kid).toBe(rotated.current.id);
    expect((before as any).kid).toBe(rotated.all[1]!.id);
    expect(createCodec(rotated).decode(before, place)).toEqual({ json: 1 });
    expect(createCodec(rotated).decode(after, place)).toEqual({ json: 2 });
  });

  it("names explicit key ids as keyId:base64", () => {
    const r = ring(`k2026:${newKey()}`, [`k2025:${newKey()}`]);
    expect(r.all.map((k) => k.id)).toEqual(["k2026", "k2025"]);
  });

  it("detects tampering with the ciphertext, the tag or the iv", () => {
    const r = ring(newKey());
    const stored = encryptValue(r, { json: { amount: 100 } }, place);
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, "base64");
      bytes[0]! ^= 1;
      return bytes.toString("base64");
    };
    for (const field of ["ct", "tag", "iv"] as const) {
      const error = (() => {
        try {
          decryptValue(r, { ...stored, [field]: flip(stored[field]) }, place);
        } catch (e) {
          return e;
        }
      })();
      expect(error, field).toBeInstanceOf(DecryptionError);
      expect((error as DecryptionError).code).toBe("DURABLE_ENCRYPTION_TAMPERED");
    }
  });

  it("says which key is missing or unknown", () => {
    const stored = encryptValue(ring(`a:${newKey()}`), { json: 1 }, place);
    expect(() => createCodec(null).decode(stored, place)).toThrow(/encrypted \(key id "a"\) but this process has no encryption key/);
    expect(() => createCodec(ring(`b:${newKey()}`)).decode(stored, place)).toThrow(/key id "a", which is not among this process's keys/);
    expect(() => createCodec(ring(newKey())).decode({ enc: "v1", kid: 5 }, place)).toThrow(/malformed/);
    expect(() => createCodec(ring(newKey())).decode({ enc: "v2", kid: "a", iv: 1 }, place)).toThrow(/malformed/);
  });

  it("reads keys from the environment and validates them", () => {
    const [k1, k2] = [newKey(), newKey()];
    const r = resolveEncryption(undefined, { DURABLE_ENCRYPTION_KEY: k1, DURABLE_ENCRYPTION_KEYS_PREVIOUS: ` ${k2} ,` })!;
    expect(r.all).toHaveLength(2);
    expect(resolveEncryption(undefined, {})).toBeNull();
    expect(resolveEncryption(false, { DURABLE_ENCRYPTION_KEY: k1 })).toBeNull();
    expect(() => resolveEncryption(undefined, { DURABLE_ENCRYPTION_KEY: "c2hvcnQ=" })).toThrow(/32 random bytes/);
    expect(() => resolveEncryption(undefined, { DURABLE_ENCRYPTION_KEYS_PREVIOUS: k2 })).toThrow(InvalidOptionError);
    expect(() => normalizeStartOptions({ encryption: { key: "nope" } })).toThrow(/Invalid option `encryption.key`/);
    expect(() => normalizeStartOptions({ encryption: { key: k1, previous: [] } as any })).toThrow(/encryption.previous/);
    expect(() => normalizeStartOptions({ encryptoin: {} } as any)).toThrow(/did you mean/i);
    expect(normalizeStartOptions({ encryption: { key: Buffer.alloc(32, 7) } }).encryption?.current.key).toEqual(Buffer.alloc(32, 7));
  });

  it("lets a viewer show encrypted values as redacted unless it has the key", () => {
    const r = ring(`dash:${newKey()}`);
    const stored = encryptValue(r, { json: { email: "x@y.z" } }, place);
    expect(revealStored(stored, null, place)).toEqual({ redacted: true, keyId: "dash" });
    expect(revealStored(stored, ring(newKey()), place)).toEqual({ redacted: true, keyId: "dash" });
    expect(revealStored(stored, r, place)).toEqual({ json: { email: "x@y.z" } });
    expect(() => revealStored(stored, r, sealPlaces.result("8"))).toThrow(/failed authentication/);
    expect(revealStored({ json: 1 }, null, place)).toEqual({ json: 1 });
  });
});

describe("encryption at rest, end to end", () => {
  it("stores captures and results encrypted and awaits the plaintext result", async () => {
    const db = await testDatabase();
    const d = await db.start({ encryption: { key: newKey() } });
    const job = await d.async(tasks.echo, { value: { email: "ada@example.com", at: new Date(0) } });
    expect(await d.await(job, { timeout: "10s" })).toEqual({ email: "ada@example.com", at: new Date(0) });
    const { rows } = await db.pool.query(`select captures, result from ${db.q}.jobs where id = $1`, [job.id]);
    expect(isEncrypted(rows[0].captures)).toBe(true);
    expect(isEncrypted(rows[0].result)).toBe(true);
    expect(JSON.stringify(rows[0])).not.toContain("ada@example.com");
  });

  it("sealed captures and results keep text jsonb cannot hold (NUL, lone surrogates) exactly", async () => {
    const db = await testDatabase();
    const d = await db.start({ encryption: { key: newKey() } });
    const odd = ["a" + String.fromCharCode(0) + "b", "Great job 😀 thanks".slice(0, 11), "😀".slice(1), { ["k" + String.fromCharCode(0)]: "😀"[0] }];
    const jobs = await d.asyncMany(odd.map((value) => [tasks.echo, { value }] as [typeof tasks.echo, Record<string, unknown>]));
    expect(await d.awaitAll(jobs, { timeout: "20s" })).toEqual(odd);
    const { rows } = await db.pool.query(`select captures->>'enc' as c, result->>'enc' as r from ${db.q}.jobs`);
    expect(rows.every((row) => row.c === "v2" && row.r === "v2")).toBe(true);
  });

  it("a job sealed with a key this worker lacks fails alone, with a clear error; rotation keeps old jobs running", async () => {
    const db = await testDatabase();
    const [oldKey, newer, foreign] = [`old:${newKey()}`, `new:${newKey()}`, `other:${newKey()}`];
    const withOld = await db.start({ encryption: { key: oldKey }, run: false });
    const withForeign = await db.start({ encryption: { key: foreign }, run: false });
    const plain = await db.start({ encryption: false, run: false });
    const oldJob = await withOld.async(tasks.add, { a: 1, b: 2 });
    const foreignJob = await withForeign.async(tasks.add, { a: 3, b: 4 });
    const plainJob = await plain.async(tasks.add, { a: 5, b: 6 });
    const worker = await db.start({ encryption: { key: newer, previousKeys: [oldKey] } });
    expect(await worker.await(oldJob, { timeout: "10s" })).toBe(3);
    expect(await worker.await(plainJob, { timeout: "10s" })).toBe(11);
    const error: any = await worker.await(foreignJob, { timeout: "10s" }).catch((e: any) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.lastError.code).toBe("DURABLE_BAD_JOB");
    expect(error.lastError.message).toMatch(/key id "other", which is not among this process's keys/);
    const { rows } = await db.pool.query(`select state, attempt from ${db.q}.jobs where id = $1`, [foreignJob.id]);
    expect(rows[0]).toEqual({ state: "discarded", attempt: 1 });
  });

  it("detects ciphertext tampered with in the database", async () => {
    const db = await testDatabase();
    const key = newKey();
    const producer = await db.start({ encryption: { key }, run: false });
    const tampered = await producer.async(tasks.add, { a: 1, b: 1 });
    const intact = await producer.async(tasks.add, { a: 2, b: 2 });
    // Flip one byte of the ciphertext in place.
    const { rows } = await db.pool.query(`select captures from ${db.q}.jobs where id = $1`, [tampered.id]);
    const ct = Buffer.from(rows[0].captures.ct, "base64");
    ct[0]! ^= 0xff;
    await db.pool.query(`update ${db.q}.jobs set captures = jsonb_set(captures::jsonb, '{ct}', to_jsonb($2::text)) where id = $1`, [tampered.id, ct.toString("base64")]);
    const worker = await db.start({ encryption: { key } });
    expect(await worker.await(intact, { timeout: "10s" })).toBe(4);
    const error: any = await worker.await(tampered, { timeout: "10s" }).catch((e: any) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.lastError.message).toMatch(/failed authentication/);
  });

  it("awaiting an encrypted result without the key rejects with a DecryptionError", async () => {
    const db = await testDatabase();
    const worker = await db.start({ encryption: { key: `r1:${newKey()}` } });
    const job = await worker.async(tasks.add, { a: 1, b: 2 });
    expect(await worker.await(job, { timeout: "10s" })).toBe(3);
    const keyless = await db.start({ encryption: false, run: false });
    const error: any = await keyless.await(job, { timeout: "10s" }).catch((e: any) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error.message).toMatch(/key id "r1"/);
  });

  it("a worker without any key rejects encrypted jobs but runs plaintext ones", async () => {
    const db = await testDatabase();
    const sealed = await (await db.start({ encryption: { key: `k1:${newKey()}` }, run: false })).async(tasks.add, { a: 1, b: 1 });
    const worker = await db.start({ encryption: false });
    const open = await worker.async(tasks.add, { a: 20, b: 22 });
    expect(await worker.await(open, { timeout: "10s" })).toBe(42);
    const error: any = await worker.await(sealed, { timeout: "10s" }).catch((e: any) => e);
    expect(error.lastError.message).toMatch(/encrypted \(key id "k1"\) but this process has no encryption key. Set DURABLE_ENCRYPTION_KEY/);
  });
});
