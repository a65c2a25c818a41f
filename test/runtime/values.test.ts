import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { roundTrip } from "../../src/serialize/values.js";
import { serializeChecked } from "../../src/serialize/values.js";
import { NotSerializableError } from "../../src/errors.js";

// Every value a closure can capture or return comes back exactly: key
// order, NUL and every other control character, lone surrogates at either
// end, U+FFFF and friends, -0, sparse-array holes, and keys named
// __proto__/constructor/prototype next to superjson-typed values, with
// shared references and cycles intact.

const emoji = "😀";
const hostileKeys = (value: unknown) => {
  const o: Record<string, unknown> = {};
  Object.defineProperty(o, "__proto__", { value, enumerable: true, writable: true, configurable: true });
  return o;
};

function cases(): Array<[string, unknown]> {
  const controls = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join("");
  const shared = { constructor: new Date(0) };
  const cyclic: Record<string, unknown> = { prototype: 1n };
  cyclic.self = cyclic;
  const sparse: unknown[] = [1, , 3];
  return [
    ["NUL in a string", { s: "a\u0000b" }],
    ["every control character", { s: controls }],
    ["a lone high surrogate (a string cut after it)", { s: "Great job 😀 thanks".slice(0, 11) }],
    ["a lone low surrogate (a string cut before it)", { s: emoji.slice(1) + "x" }],
    ["a high surrogate at the end", { s: "x" + emoji[0] }],
    ["two high surrogates in a row", { s: `${emoji[0]}${emoji[0]}${emoji}` }],
    ["U+FFFF, U+FFFE, BOM and line separators", { s: "\uffff\ufffe\ufeff\u2028\u2029" }],
    ["unstorable characters in keys", { ["k\u0000"]: 1, [emoji[0]!]: 2, [emoji[1]!]: 3 }],
    ["key order", { zeta: 1, bb: { y: 1, x: 2 }, a: [{ d: 1, c: 2 }] }],
    ["key order next to superjson types", { zeta: new Date(0), bb: 1n, a: new Map([["z", 1], ["a", 2]]) }],
    ["-0", { n: -0, list: [-0, 0], deep: { n: -0 } }],
    ["NaN and infinities", { values: [NaN, Infinity, -Infinity] }],
    ["sparse-array holes", { list: [1, , 3], empty: new Array(3), trailing: [1, ,] }],
    ["holes next to superjson types", { list: [new Date(0), , 2n], inMap: new Map([["k", [, 1]]]) }],
    ["constructor next to a Date", { constructor: new Date(0) }],
    ["prototype next to a bigint", { prototype: 10n, nested: { constructor: { prototype: new Set([1]) } } }],
    ["an own __proto__ key in plain JSON", { value: hostileKeys({ polluted: true }) }],
    ["an own __proto__ key next to a Map", { value: hostileKeys(new Map([[1, 2]])) }],
    ["keys that look escaped", { "~constructor": new Date(0), constructor: 1n, "~~prototype": 2 }],
    ["shared references through the escape pass", { a: shared, b: shared }],
    ["a cycle through the escape pass", { c: cyclic }],
    ["a sparse array shared twice", { a: sparse, b: sparse, when: new Date(0) }],
  ];
}

/** Deep equality that also checks key order, -0 and holes. */
function exact(a: unknown, b: unknown, seen = new Map<object, unknown>()): boolean {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return Object.is(a, b);
  if (seen.has(a)) return seen.get(a) === b;
  seen.set(a, b);
  if (!isDeepStrictEqual(Object.keys(a), Object.keys(b))) return false;
  if (a instanceof Map && b instanceof Map) return exact([...a], [...b], seen);
  if (a instanceof Set && b instanceof Set) return exact([...a], [...b], seen);
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
  if (!Array.isArray(a) && !(Object.getPrototypeOf(a) === Object.prototype || Object.getPrototypeOf(a) === null)) return isDeepStrictEqual(a, b);
  return Object.keys(a).every((k) => exact((a as any)[k], (b as any)[k], seen));
}

describe("values round-trip exactly", () => {
  it.each(cases())("%s, through the serializer", (_name, value) => {
    const back = roundTrip(serializeChecked(value, "captures", "test"));
    expect(exact(value, back)).toBe(true);
  });

  it("through a worker: as captures and as results, every case in one run", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const all = cases();
    const handles = await d.asyncMany(all.map(([, value]) => [tasks.echo, { value }] as [typeof tasks.echo, Record<string, unknown>]));
    const results = await d.awaitAll(handles, { timeout: "30s" });
    const wrong = all.filter(([, value], i) => !exact(value, results[i])).map(([name]) => name);
    expect(wrong).toEqual([]);
    // Shared references and cycles come back shared.
    const byName = new Map(all.map(([name], i) => [name, results[i] as any]));
    const shared = byName.get("shared references through the escape pass");
    expect(shared.a).toBe(shared.b);
    const cyclic = byName.get("a cycle through the escape pass");
    expect(cyclic.c.self).toBe(cyclic.c);
  });

  it("a result read back by another process's await keeps its key order", async () => {
    const db = await testDatabase();
    const worker = await db.start();
    const client = await db.start({ run: false });
    const job = await client.async(tasks.echo, { value: { zeta: 1, bb: 2, a: 3 } });
    expect(Object.keys(await client.await<Record<string, number>>(job, { timeout: "10s" }))).toEqual(["zeta", "bb", "a"]);
    void worker;
  });

  it("a value superjson cannot take still fails with the path, not superjson's own message", () => {
    const custom = { nested: { at: [1, { fn: () => 1 }] } };
    expect(() => serializeChecked(custom, "captures", "durable.async() at a.ts:1:1")).toThrow(NotSerializableError);
    expect(() => serializeChecked(custom, "captures", "durable.async() at a.ts:1:1")).toThrow(/^captures\.nested\.at\[1\]\.fn is a function/);
  });
});
