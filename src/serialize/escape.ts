import SuperJSON from "superjson";
import { HOSTILE_KEY, isRegisteredClass } from "./check.js";

// What superjson cannot carry, carried around it. superjson refuses any
// object key named __proto__, constructor or prototype once a value needs
// its type annotations ("prototype pollution risk"), and it writes
// sparse-array holes as null. Before such a value is serialized, a copy is
// made where
//   - a key matching ~*(__proto__|constructor|prototype) gets one more "~"
//     (a bijection: "~constructor" written by the user becomes
//     "~~constructor" and comes back as it was), and
//   - an array with holes becomes a SparseArray: its length and its
//     present entries, as a class superjson knows.
// The payload is marked `esc: 1`, and only marked payloads are unescaped,
// in place on the freshly deserialized value, keys in their original order.
// Shared references and cycles survive: both passes keep a memo.

const ESCAPED_KEY = /^~+(?:__proto__|constructor|prototype)$/;

interface SparseArrayShape {
  length: number;
  entries: Array<[number, unknown]>;
}

// One class per process, shared by every copy of this package, so the
// identifier superjson holds always names the class this copy checks for.
const SPARSE_KEY = Symbol.for("durable-async.sparse-array");
const SparseArray: new (length: number) => SparseArrayShape = ((globalThis as any)[SPARSE_KEY] ??= (() => {
  const cls = class SparseArray {
    entries: Array<[number, unknown]> = [];
    constructor(public length: number) {}
  };
  SuperJSON.registerClass(cls, { identifier: "durable-async:sparse-array" });
  return cls;
})());

/** The copy superjson can serialize; see the header. */
export function escapeValue(value: unknown, memo = new Map<object, unknown>()): unknown {
  if (typeof value !== "object" || value === null) return value;
  const known = memo.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) return escapeArray(value, memo);
  if (value instanceof Map) {
    const copy = new Map();
    memo.set(value, copy);
    for (const [k, v] of value) copy.set(escapeValue(k, memo), escapeValue(v, memo));
    return copy;
  }
  if (value instanceof Set) {
    const copy = new Set();
    memo.set(value, copy);
    for (const v of value) copy.add(escapeValue(v, memo));
    return copy;
  }
  const proto = Object.getPrototypeOf(value);
  const plain = proto === null || proto === Object.prototype;
  if (!plain && !isRegisteredClass(proto.constructor)) return value;
  const copy: Record<string, unknown> = plain ? {} : Object.create(proto);
  memo.set(value, copy);
  for (const key of Object.keys(value)) {
    const name = HOSTILE_KEY.test(key) ? `~${key}` : key;
    copy[name] = escapeValue((value as Record<string, unknown>)[key], memo);
  }
  return copy;
}

function escapeArray(array: unknown[], memo: Map<object, unknown>): unknown {
  let holes = false;
  for (let i = 0; i < array.length && !holes; i++) holes = !(i in array);
  if (!holes) {
    const copy: unknown[] = [];
    memo.set(array, copy);
    for (const item of array) copy.push(escapeValue(item, memo));
    return copy;
  }
  const sparse = new SparseArray(array.length);
  memo.set(array, sparse);
  array.forEach((item, i) => sparse.entries.push([i, escapeValue(item, memo)]));
  return sparse;
}

/** Undoes escapeValue on a freshly deserialized value (mutates it; returns the value to use). */
export function unescapeValue(value: unknown, memo = new Map<object, unknown>()): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (memo.has(value)) return memo.get(value);
  if (value instanceof SparseArray) return unescapeSparse(value, memo);
  memo.set(value, value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = unescapeValue(value[i], memo);
  } else if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => [unescapeValue(k, memo), unescapeValue(v, memo)] as const);
    value.clear();
    for (const [k, v] of entries) value.set(k, v);
  } else if (value instanceof Set) {
    const items = [...value].map((v) => unescapeValue(v, memo));
    value.clear();
    for (const v of items) value.add(v);
  } else {
    unescapeProperties(value as Record<string, unknown>, memo);
  }
  return value;
}

function unescapeSparse(sparse: SparseArrayShape, memo: Map<object, unknown>): unknown[] {
  const { length, entries } = sparse;
  // Stored data picks these numbers: only real array indices, never a key like "__proto__".
  if (!isIndex(length, 2 ** 32) || !Array.isArray(entries)) throw new TypeError("malformed sparse array");
  const array = new Array(length);
  memo.set(sparse, array);
  for (const entry of entries) {
    if (!Array.isArray(entry) || !isIndex(entry[0], length)) throw new TypeError("malformed sparse array entry");
    array[entry[0]] = unescapeValue(entry[1], memo);
  }
  return array;
}

const isIndex = (n: unknown, below: number): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) < below;

function unescapeProperties(object: Record<string, unknown>, memo: Map<object, unknown>): void {
  const keys = Object.keys(object);
  if (!keys.some((k) => ESCAPED_KEY.test(k))) {
    for (const key of keys) object[key] = unescapeValue(object[key], memo);
    return;
  }
  // Renamed keys must keep their place: rebuild the object's own keys in order.
  const entries = keys.map((key) => [ESCAPED_KEY.test(key) ? key.slice(1) : key, unescapeValue(object[key], memo)] as const);
  for (const key of keys) delete object[key];
  // defineProperty: an own "__proto__" key, never the prototype setter.
  for (const [key, v] of entries) Object.defineProperty(object, key, { value: v, enumerable: true, writable: true, configurable: true });
}
