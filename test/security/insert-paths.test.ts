import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";

// Text jsonb cannot hold (NUL, lone surrogates) through every way a job is
// inserted: a lone call (one-row statement), concurrent calls (group commit),
// asyncMany, bulk, unique (lock-then-check transaction), the caller's own
// transaction. With encryption on too, where every row gets its own row key.
// Each value must come back exactly, and ordinary jobs beside it complete.

const NUL = String.fromCharCode(0);
const odd = (n: number) => [`a${NUL}b ${n}`, `Great job 😀 thanks ${n}`.slice(0, 11) + n, `${"😀".slice(1)}${n}`, { [`k${NUL}${n}`]: "😀"[0] }][n % 4];

type Echo = [typeof tasks.echo, Record<string, unknown>, Record<string, unknown>?];

describe.each([
  ["plaintext", false],
  ["encrypted", true],
] as const)("odd text through every insert path (%s)", (_name, encrypted) => {
  it("comes back exactly, and the ordinary jobs beside it complete", async () => {
    const db = await testDatabase();
    const d = await db.start({ encryption: encrypted ? { key: randomBytes(32).toString("base64") } : false });
    let n = 0;
    const values: unknown[] = [];
    const echo = (): Echo => {
      const value = n % 2 === 0 ? odd(n) : n;
      n++;
      values.push(value);
      return [tasks.echo, { value }];
    };
    const handles = [];
    handles.push(await d.async(...echo())); // alone: the one-row statement
    handles.push(...(await Promise.all(Array.from({ length: 8 }, () => d.async(...echo()))))); // concurrent: group commit
    handles.push(...(await d.asyncMany(Array.from({ length: 8 }, () => echo()))));
    const inBulk: Array<Promise<unknown>> = [];
    handles.push(...(await d.bulk(() => {
      for (let i = 0; i < 4; i++) inBulk.push(d.async(...echo()));
    })));
    for (let i = 0; i < 4; i++) {
      const [task, captures] = echo();
      handles.push(await d.async(task, captures, { unique: {} }));
    }
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      for (let i = 0; i < 4; i++) {
        const [task, captures] = echo();
        handles.push(await d.async(task, captures, { client }));
      }
      await client.query("commit");
    } finally {
      client.release();
    }
    await Promise.all(inBulk);
    expect(handles.every((h) => !h.conflict)).toBe(true);
    expect(await d.awaitAll(handles, { timeout: "30s" })).toEqual(values);
    const { rows } = await db.pool.query(`select count(*)::int as n, count(row_key)::int as keyed, count(distinct row_key)::int as distinct_keys from ${db.q}.jobs`);
    expect(rows[0]).toEqual(encrypted ? { n: values.length, keyed: values.length, distinct_keys: values.length } : { n: values.length, keyed: 0, distinct_keys: 0 });
  });
});
