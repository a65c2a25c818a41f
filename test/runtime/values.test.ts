import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import SuperJSON from "superjson";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { deserialize, roundTrip } from "../../src/serialize/values.js";
import { serializeChecked } from "../../src/serialize/values.js";
import { NotSerializableError } from "../../src/errors.js";
import { serializeCaptures } from "../../src/enqueue/index.js";
import { createCodec, resolveEncryption, type KeyRing } from "../../src/serialize/encryption.js";
import { sealPlaces } from "../../src/serialize/codec.js";

// Every value a closure can capture or return comes back exactly: key
// order, NUL and every other control character, lone surrogates at either
// end, U+FFFF and friends, -0, sparse-array holes, and keys named
// __proto__/constructor/prototype next to superjson-typed values, invalid
// Dates, and Errors (class, stack, cause, AggregateError's errors, own
// properties), with shared references and cycles intact.

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
  const sparseCycle: unknown[] = [];
  sparseCycle[3] = sparseCycle;
  const throughHoles: Record<string, unknown> = {};
  throughHoles.a = [, throughHoles];
  const invalid = new Date("nope");
  const selfCause = new Error("assigned");
  selfCause.cause = selfCause;
  const selfCauseOwn = new TypeError("as the constructor sets it");
  Object.defineProperty(selfCauseOwn, "cause", { value: selfCauseOwn, writable: true, enumerable: false, configurable: true });
  const sharedError = Object.assign(new RangeError("shared"), { code: "E_SHARED" });
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
    ["a sparse array in a cycle", { a: sparseCycle }],
    ["a cycle through a sparse array", { o: throughHoles }],
    ["an invalid Date", { d: new Date(NaN) }],
    ["an invalid Date, nested and shared", { a: { d: invalid }, b: [invalid], m: new Map([["k", invalid]]), ok: new Date(0) }],
    ["errors of every built-in class", { list: [new Error("e"), new TypeError("t"), new RangeError("r"), new SyntaxError("s"), new ReferenceError("f"), new EvalError("v"), new URIError("u")] }],
    ["an AggregateError and its errors", { e: new AggregateError([new Error("one"), new TypeError("two", { cause: 2n })], "both") }],
    ["an error's own properties", { e: Object.assign(new RangeError("x"), { code: "E_X", status: 404, details: { at: new Date(0), ids: [1n, -0] } }) }],
    ["an error whose cause is itself (assigned)", { e: selfCause }],
    ["an error whose cause is itself (as the constructor sets it)", { e: selfCauseOwn }],
    ["a cause chain to a plain value, and an empty message", { e: new Error(undefined, { cause: new TypeError("inner", { cause: { plain: [1, , 2] } }) }) }],
    ["a cause that is undefined", { e: new Error("x", { cause: undefined }), none: new Error("y") }],
    ["an error shared between places", { a: sharedError, b: [sharedError], m: new Map([[1, sharedError]]) }],
    ["an error with a stack of its own and keys like markers", { e: Object.assign(new Error("x"), { stack: "Error: x\n    at nowhere (a.ts:1:1)", "@durable": "error", "~@durable": 1, constructor: 2 }) }],
    ["keys like markers next to holes", { "@durable": "holes", "~@durable": "error", list: [1, , 2] }],
    ["keys like markers in plain JSON", { "@durable": "holes", length: 2, entries: [] }],
    ["keys like markers next to a Date", { "@durable": "invalid-date", at: new Date(0) }],
  ];
}

/** Deep equality that also checks key order, -0, holes, invalid Dates, and everything an Error holds. */
function exact(a: unknown, b: unknown, seen = new Map<object, unknown>()): boolean {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return Object.is(a, b);
  if (seen.has(a)) return seen.get(a) === b;
  seen.set(a, b);
  if (!isDeepStrictEqual(Object.keys(a), Object.keys(b))) return false;
  if (a instanceof Date) return b instanceof Date && Object.getPrototypeOf(a) === Object.getPrototypeOf(b) && Object.is(a.getTime(), b.getTime());
  if (a instanceof Error) return b instanceof Error && sameError(a, b, seen);
  if (a instanceof Map && b instanceof Map) return exact([...a], [...b], seen);
  if (a instanceof Set && b instanceof Set) return exact([...a], [...b], seen);
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
  if (!Array.isArray(a) && !(Object.getPrototypeOf(a) === Object.prototype || Object.getPrototypeOf(a) === null)) return isDeepStrictEqual(a, b);
  return Object.keys(a).every((k) => exact((a as any)[k], (b as any)[k], seen));
}

/** Class, name, message, stack, cause, errors and own properties (each own property's enumerability too). */
function sameError(a: Error, b: Error, seen: Map<object, unknown>): boolean {
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || a.name !== b.name || a.message !== b.message || a.stack !== b.stack) return false;
  for (const key of ["cause", "errors", "name", "message", "stack"]) {
    const [da, db] = [Object.getOwnPropertyDescriptor(a, key), Object.getOwnPropertyDescriptor(b, key)];
    if (Boolean(da) !== Boolean(db) || da?.enumerable !== db?.enumerable) return false;
  }
  if ("cause" in a !== "cause" in b || !exact(a.cause, b.cause, seen)) return false;
  if (!exact((a as AggregateError).errors, (b as AggregateError).errors, seen)) return false;
  return Object.keys(a).every((k) => exact((a as any)[k], (b as any)[k], seen));
}

const newKey = () => randomBytes(32).toString("base64");

describe("values round-trip exactly", () => {
  it.each(cases())("%s, through the serializer", (_name, value) => {
    const back = roundTrip(serializeChecked(value, "captures", "test"));
    expect(exact(value, back)).toBe(true);
  });

  it.each([["without", false], ["with", true]] as const)("through a worker, %s encryption: as captures and as results, every case in one run", async (_label, encrypted) => {
    const db = await testDatabase();
    const d = await db.start(encrypted ? { encryption: { key: newKey() } } : {});
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
    const sparseCycle = byName.get("a sparse array in a cycle");
    expect(sparseCycle.a[3]).toBe(sparseCycle.a);
    const throughHoles = byName.get("a cycle through a sparse array");
    expect(throughHoles.o.a[1]).toBe(throughHoles.o);
    const selfCause = byName.get("an error whose cause is itself (assigned)");
    expect(selfCause.e.cause).toBe(selfCause.e);
    const invalid = byName.get("an invalid Date, nested and shared");
    expect(invalid.a.d).toBeInstanceOf(Date);
    expect(invalid.b[0]).toBe(invalid.a.d);
    const sharedError = byName.get("an error shared between places");
    expect(sharedError.b[0]).toBe(sharedError.a);
    expect(sharedError.a).toBeInstanceOf(RangeError);
    if (encrypted) {
      const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where captures->>'enc' = 'v2' and result->>'enc' = 'v2'`);
      expect(rows[0].n).toBe(all.length);
    }
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

describe("errors keep their class, properties and cause", () => {
  class HttpError extends Error {
    status = 503;
    constructor(message: string) {
      super(message);
      this.name = "HttpError";
    }
  }
  class NotFound extends TypeError {}
  NotFound.prototype.name = "NotFound";
  class Registered extends RangeError {
    constructor(message: string, readonly code = "E_REG") {
      super(message);
    }
  }
  SuperJSON.registerClass(Registered, { identifier: "test:values-registered-error" });

  const check = (back: any) => {
    expect(back.http).toBeInstanceOf(Error);
    expect(back.http).not.toBeInstanceOf(HttpError);
    expect(Object.getPrototypeOf(back.http)).toBe(Error.prototype);
    expect(back.http).toMatchObject({ name: "HttpError", message: "down", status: 503 });
    expect(Object.keys(back.http)).toEqual(["status", "name"]);
    // The nearest built-in class, and the name its own class gave it.
    expect(Object.getPrototypeOf(back.notFound)).toBe(TypeError.prototype);
    expect(back.notFound.name).toBe("NotFound");
    expect(String(back.notFound)).toBe("NotFound: no such user");
    expect(back.registered).toBeInstanceOf(Registered);
    expect(back.registered).toBeInstanceOf(RangeError);
    expect(back.registered).toMatchObject({ message: "registered", code: "E_REG" });
    expect(back.registered.stack).toBe(value.registered.stack);
  };
  const value = { http: new HttpError("down"), notFound: new NotFound("no such user"), registered: new Registered("registered") };

  it("a custom subclass comes back as its nearest built-in class with its name; a registered one as itself", () => {
    check(roundTrip(serializeChecked(value, "captures", "test")));
  });

  it("the same through a worker, with encryption", async () => {
    const db = await testDatabase();
    const d = await db.start({ encryption: { key: newKey() } });
    const job = await d.async(tasks.echo, { value });
    check(await d.await(job, { timeout: "10s" }));
  });

  it("what cannot be serialized inside an error is refused with its path, like anywhere else", () => {
    const refuse = (value: unknown) => () => serializeChecked({ value }, "captures", "durable.async() at a.ts:1:1");
    expect(refuse(new Error("x", { cause: () => 1 }))).toThrow(/^captures\.value\.cause is a function \(durable\.async\(\) at a\.ts:1:1\)/);
    expect(refuse({ e: new Error("x", { cause: { deeper: Symbol("s") } }) })).toThrow(/^captures\.value\.e\.cause\.deeper is a symbol/);
    expect(refuse(Object.assign(new TypeError("x"), { retry: () => 1 }))).toThrow(/^captures\.value\.retry is a function/);
    expect(refuse(new AggregateError([new Error("ok"), Promise.resolve(1)], "x"))).toThrow(/^captures\.value\.errors\[1\] is a Promise/);
    class Socket {}
    expect(refuse(new Error("x", { cause: new Socket() }))).toThrow(/^captures\.value\.cause is an instance of Socket/);
    expect(refuse(new Error("x", { cause: new Error("inner", { cause: () => 1 }) }))).toThrow(NotSerializableError);
    const result = () => serializeChecked(new Error("x", { cause: () => 1 }), "result", "task t");
    expect(result).toThrow(/^result\.cause is a function \(task t\)/);
  });

  it("a row written before errors were kept (superjson's Error) still decodes", () => {
    const back = deserialize<any>(JSON.parse(`{"json":{"value":{"e":{"name":"TypeError","message":"old","cause":"why"},"big":"1"}},"meta":{"values":{"value.e":["Error"],"value.big":["bigint"]},"v":1}}`));
    expect(back.value.e).toBeInstanceOf(Error);
    expect(back.value.e).toMatchObject({ name: "TypeError", message: "old", cause: "why" });
    expect(back.value.big).toBe(1n);
  });
});

// A value written by the escape pass before it used markers (`esc: 1`): a
// holey array was an instance of the registered SparseArray class, and only
// __proto__/constructor/prototype keys were escaped. Text as the previous
// version wrote it.
const OLD_ESCAPED_ROW =
  `{"json":{"value":{"holes":{"length":3,"entries":[[0,1],[2,3]]},"at":"1970-01-01T00:00:00.000Z","inMap":[["k",{"length":2,"entries":[[1,1]]}]],"~constructor":"1970-01-01T00:00:00.000Z","~~prototype":"2","a":{"n":"s"},"b":{"n":"s"},"cyclic":{"~prototype":"1","self":null},"e":{"name":"TypeError","message":"old","cause":"why"}}},` +
  `"meta":{"values":{"value.holes":[["class","durable-async:sparse-array"]],"value.at":["Date"],"value.inMap":["map",{"0.1":[["class","durable-async:sparse-array"]]}],"value.~constructor":["Date"],"value.~~prototype":["bigint"],"value.cyclic.~prototype":["bigint"],"value.e":["Error"]},"referentialEqualities":{"value.a":["value.b"],"value.cyclic":["value.cyclic.self"]},"v":1},"esc":1}`;

function checkOldRow(value: any) {
  expect(Object.keys(value)).toEqual(["holes", "at", "inMap", "constructor", "~prototype", "a", "b", "cyclic", "e"]);
  expect(exact(value.holes, [1, , 3])).toBe(true);
  expect(value.at).toEqual(new Date(0));
  expect(exact(value.inMap, new Map([["k", [, 1]]]))).toBe(true);
  expect(Object.getOwnPropertyDescriptor(value, "constructor")?.value).toEqual(new Date(0));
  expect(value["~prototype"]).toBe(2n);
  expect(value.a).toBe(value.b);
  expect(value.cyclic.self).toBe(value.cyclic);
  expect(Object.getOwnPropertyDescriptor(value.cyclic, "prototype")?.value).toBe(1n);
  expect(value.e).toBeInstanceOf(Error);
  expect(value.e).toMatchObject({ name: "TypeError", message: "old", cause: "why" });
}

describe("rows in the previous escape format (esc: 1)", () => {
  it("decode as they were written", () => {
    checkOldRow(deserialize<any>(JSON.parse(OLD_ESCAPED_ROW)).value);
  });

  it("run on a worker of this version", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const { rows } = await db.pool.query(
      `insert into ${db.q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, meta)
       values ('available', 'ad_hoc_worker', $1, $2, 1, 30000, $3::json, '{}') returning id::text`,
      [tasks.echo.id, `h-${tasks.echo.id}`, OLD_ESCAPED_ROW],
    );
    checkOldRow(await d.await(rows[0].id, { timeout: "10s" }));
  });

  it("a payload from a newer escape pass is refused, not misread", () => {
    expect(() => deserialize({ json: { value: 1 }, esc: 3 })).toThrow(/escape pass 3, which this version of durable-async cannot read/);
    expect(() => deserialize({ json: { value: { "@durable": "from-the-future" } }, esc: 2 })).toThrow(/unknown marker "from-the-future"/);
  });
});

describe("values that cannot be stored fail at the call with the path", () => {
  it("a getter that throws is named by its path", () => {
    const plain = { v: { get bad() { throw new Error("getter boom"); } } };
    expect(() => serializeChecked(plain, "captures", "durable.async() at a.ts:1:1")).toThrow(/^captures\.v\.bad cannot be read: its getter threw \(getter boom\) \(durable\.async\(\) at a\.ts:1:1\)/);
    // Next to a superjson type (our own walk meets it first), inside a Map, an Error and an array.
    const typed = { at: new Date(0), m: new Map([["k", [plain.v]]]) };
    expect(() => serializeChecked(typed, "result", "task t")).toThrow(/^result\.m\.get\("k"\)\[0\]\.bad cannot be read: its getter threw \(getter boom\)/);
    const inError = { e: Object.assign(new Error("x"), plain) };
    expect(() => serializeChecked(inError, "captures", "t")).toThrow(/^captures\.e\.v\.bad cannot be read/);
    const error = (() => {
      try {
        serializeChecked(plain, "captures", "t");
      } catch (e) {
        return e as NotSerializableError;
      }
    })();
    expect(error).toBeInstanceOf(NotSerializableError);
    expect(error?.code).toBe("DURABLE_NOT_SERIALIZABLE");
    expect(error?.path).toBe("captures.v.bad");
  });

  const nest = (depth: number, leaf: unknown, array: boolean) => {
    let value: unknown = leaf;
    for (let i = 0; i < depth; i++) value = array ? [value] : { x: value };
    return value;
  };
  const ring = resolveEncryption({ key: newKey() }) as KeyRing;
  const codecs = { plain: (payload: unknown) => payload, sealed: (payload: unknown) => createCodec(ring).encode(payload, sealPlaces.captures("t", "k")) };
  /** Recurses `frames` deep before calling: the same value from a call site deep in a stack. */
  const deepCall = <T>(frames: number, call: () => T): T => (frames === 0 ? call() : deepCall(frames - 1, call));

  it("nesting too deep for JSON.stringify is a NotSerializableError with the call site, at any depth, from any stack", () => {
    const where = "durable.async() at src/deep.ts:3:5";
    const outcomes = new Map<string, string>();
    for (const frames of [0, 3_000])
      for (const [codecName, encode] of Object.entries(codecs))
        for (const array of [false, true])
          for (const leaf of [1, new Date(0), new Error("leaf")])
            for (const depth of [1_000, 4_000, 4_500, 5_000, 5_500, 6_000, 8_000, 20_000, 100_000]) {
              const value = nest(depth, leaf, array);
              const label = `${frames}/${codecName}/${array ? "array" : "object"}/${leaf instanceof Error ? "error" : leaf instanceof Date ? "date" : "number"}/${depth}`;
              try {
                const { text } = deepCall(frames, () => serializeCaptures({ value }, where, encode, 1 << 30));
                expect(typeof text).toBe("string");
                outcomes.set(label, "stored");
              } catch (error: any) {
                if (!(error instanceof NotSerializableError)) throw new Error(`${label}: ${error?.constructor?.name}: ${error?.message}`);
                expect(error.code).toBe("DURABLE_NOT_SERIALIZABLE");
                expect(error.message).toContain(`captures is nested too deeply to serialize (${where})`);
                outcomes.set(label, "refused");
              }
            }
    // Shallow enough is stored; far too deep is refused (whatever the stack).
    expect(outcomes.get("0/plain/object/number/1000")).toBe("stored");
    expect(outcomes.get("0/sealed/array/date/1000")).toBe("stored");
    expect(outcomes.get("0/plain/object/number/100000")).toBe("refused");
  });
});
