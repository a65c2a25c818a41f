import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { stableJson } from "../../src/unique/key.js";

describe("unique keys with encryption on", () => {
  it("are a keyed HMAC, so a table reader cannot confirm a guessed capture by hashing it; dedupe still works", async () => {
    const db = await testDatabase();
    const key = randomBytes(32).toString("base64");
    const d = await db.start({ run: false, encryption: { key } });
    const options = { unique: { by: ["captures" as const], period: "24h" } };
    const first = await d.async(tasks.echo, { value: "stranger@example.com" }, options);
    const second = await d.async(tasks.echo, { value: "stranger@example.com" }, options);
    expect(second).toMatchObject({ id: first.id, conflict: true });
    const { rows } = await db.pool.query(`select unique_key, captures from ${db.q}.jobs`);
    expect(rows).toHaveLength(1);
    const guessed = createHash("sha256").update(stableJson({ captures: { json: { value: "stranger@example.com" } } })).digest("hex");
    expect(rows[0].unique_key).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].unique_key).not.toBe(guessed);
    expect(JSON.stringify(rows[0].captures)).not.toContain("stranger@example.com");
  });
});
