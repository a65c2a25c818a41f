import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as hostile from "../support/hostile-tasks.mjs";
import * as tasks from "../support/tasks.mjs";
import { InvalidOptionError } from "../../src/errors.js";

// Text Postgres' jsonb and text types cannot hold (NUL, lone surrogates) in
// the places that stay jsonb: meta and tags are refused at the call with
// the path named (meta is queried by containment, so it is stored as
// jsonb); progress messages and error texts are stored in a visible,
// faithful escaped form. Captures and results store them exactly
// (values.test.ts). Nothing ever reaches the database as a raw 22P05.

const NUL = String.fromCharCode(0);
const HIGH = "😀"[0]!;
const LOW = "😀"[1]!;

describe("text jsonb cannot store", () => {
  it.each([
    ["a NUL in a meta value", { meta: { note: `a${NUL}b` } }, "meta.note", /NUL character \(U\+0000\) at index 1/],
    ["a lone high surrogate in a nested meta value", { meta: { a: { b: [1, `x${HIGH}`] } } }, "meta.a.b[1]", /lone surrogate \(U\+D83D/],
    ["a lone low surrogate at the start of a meta value", { meta: { s: `${LOW}x` } }, "meta.s", /lone surrogate \(U\+DE00/],
    ["a NUL in a meta key", { meta: { [`k${NUL}`]: 1 } }, `meta key "k\\u0000"`, /NUL character/],
    ["a lone surrogate in a tag", { tags: ["ok", `t${HIGH}`] }, "tags[1]", /lone surrogate/],
  ])("%s is refused at the call, naming the path", async (_name, options, path, reason) => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    let error: unknown;
    try {
      void d.async(tasks.echo, { value: 1 }, options as any);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(path);
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).toMatch(/captures, which store any string/);
  });

  it("storable neighbours are accepted in meta: other control characters, U+FFFF, whole surrogate pairs", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const meta = { controls: "\u0001\u001f\u007f", max: "\uffff\ufffe", emoji: "😀", [`key😀\u0001`]: "v" };
    const job = await d.async(tasks.echo, { value: 1 }, { meta, tags: ["😀", "\u0001"] });
    const { rows } = await db.pool.query(`select meta, tags from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0].meta).toEqual(meta);
    expect(rows[0].tags).toEqual(["😀", "\u0001"]);
    expect((await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where meta @> $1::jsonb`, [JSON.stringify({ emoji: "😀" })])).rows[0].n).toBe(1);
  });

  it("a progress message holding them is stored escaped, and the job completes", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const messages = [`a${NUL}b`, `cut ${HIGH}`, `${LOW} cut`, "fine 😀"];
    const jobs = await d.asyncMany(messages.map((message) => [hostile.oddProgress, { message }] as [any, any]));
    expect(await d.awaitAll(jobs, { timeout: "20s" })).toEqual(messages.map(() => "done"));
    const { rows } = await db.pool.query(`select progress->>'message' as message from ${db.q}.jobs where id = any($1::bigint[]) order by id`, [jobs.map((j) => j.id)]);
    expect(rows.map((r) => r.message)).toEqual(["a\\u0000b", "cut \\ud83d", "\\ude00 cut", "fine 😀"]);
  });

  it("an error message holding them is stored escaped, the attempt spent", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(hostile.throwsHostile, { kind: "NUL and lone surrogates in every field" }, { maxAttempts: 1 });
    await d.await(job, { timeout: "20s" }).catch(() => undefined);
    const { rows } = await db.pool.query(`select state, attempt, errors->0 as e from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0]).toMatchObject({ state: "discarded", attempt: 1 });
    expect(rows[0].e).toMatchObject({ message: "a\\u0000b \\ud83d", name: "Bad\\u0000Name", code: "C\\u0000" });
    expect(rows[0].e.stack).toMatch(/^at \\udc00 x/);
  });
});
