import SuperJSON from "superjson";
import { NotSerializableError } from "../errors.js";

// superjson silently turns functions into nothing and class instances into
// plain objects. A worker would then run with data that looks right and is
// not, so every value is walked before it is serialized and the first thing
// that cannot round-trip is reported with its path.

const typedArrays = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
];
const builtins = new Set<unknown>([Date, RegExp, URL, Error, TypeError, RangeError, SyntaxError, EvalError, ReferenceError, URIError, ...typedArrays]);

function isRegisteredClass(ctor: unknown): boolean {
  const instance = (SuperJSON as any).defaultInstance;
  return Boolean(instance?.classRegistry?.getIdentifier(ctor));
}

/** Returns a description of the first non-serializable value, or null. */
export function findUnserializable(value: unknown, path: string, seen = new Set<object>()): { path: string; reason: string } | null {
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
    case "bigint":
    case "undefined":
      return null;
    case "function":
      return { path, reason: "is a function" };
    case "symbol":
      return { path, reason: "is a symbol" };
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) return null;
  seen.add(object);

  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      const found = findUnserializable(object[i], `${path}[${i}]`, seen);
      if (found) return found;
    }
    return null;
  }
  if (object instanceof Map) {
    let i = 0;
    for (const [k, v] of object) {
      const found = findUnserializable(k, `${path}.<key ${i}>`, seen) ?? findUnserializable(v, `${path}.get(${JSON.stringify(String(k))})`, seen);
      if (found) return found;
      i++;
    }
    return null;
  }
  if (object instanceof Set) {
    let i = 0;
    for (const v of object) {
      const found = findUnserializable(v, `${path}.<item ${i++}>`, seen);
      if (found) return found;
    }
    return null;
  }
  if (object instanceof Promise) return { path, reason: "is a Promise (await it before the call and capture the value)" };
  if (object instanceof WeakMap || object instanceof WeakSet || object instanceof WeakRef) return { path, reason: `is a ${object.constructor.name}, which cannot be copied` };
  const proto = Object.getPrototypeOf(object);
  if (proto !== null && proto !== Object.prototype) {
    const ctor = proto.constructor;
    if (builtins.has(ctor) || object instanceof Error) return null;
    if (isRegisteredClass(ctor)) return null;
    const name = typeof ctor === "function" && ctor.name ? ctor.name : "an unnamed class";
    if (typeof (object as any).pipe === "function" || typeof (object as any).on === "function") {
      return { path, reason: `is a ${name} (a stream, socket or emitter), which cannot be copied to another process` };
    }
    return { path, reason: `is an instance of ${name}, which is not registered with superjson (SuperJSON.registerClass(${name})) and would arrive as a plain object` };
  }
  for (const key of Object.keys(object)) {
    const found = findUnserializable((object as any)[key], `${path}.${key}`, seen);
    if (found) return found;
  }
  return null;
}

export interface SerializedValue {
  json: unknown;
  meta?: unknown;
}

/** Serializes after checking; `where` names the call site for the error. */
/**
 * True when the value is plain JSON that superjson would pass through as
 * `{ json: value }` with no meta: no undefined, NaN, ±Infinity, -0, bigint,
 * class instances, or shared/cyclic references (superjson records those).
 */
function isPlainJson(value: unknown, seen: Set<object>): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (seen.has(value)) return false;
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!(i in value) || !isPlainJson(value[i], seen)) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const key in value) {
        if (key === "__proto__" || !isPlainJson((value as Record<string, unknown>)[key], seen)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** A plain object whose values are all JSON primitives: no references to track, so no Set. */
function isFlatPlainJson(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (key === "__proto__") return false;
    if (typeof v === "string" || typeof v === "boolean" || v === null) continue;
    if (typeof v === "number" && Number.isFinite(v) && !Object.is(v, -0)) continue;
    return false;
  }
  return true;
}

export function serializeChecked(value: unknown, rootPath: string, where: string): SerializedValue {
  // Most captures are plain data: one cheap walk instead of our check plus superjson's.
  if (isFlatPlainJson(value) || isPlainJson(value, new Set())) return { json: value };
  const problem = findUnserializable(value, rootPath);
  if (problem) throw new NotSerializableError(problem.path, problem.reason, where);
  return SuperJSON.serialize(value as any) as SerializedValue;
}

export function deserialize<T = unknown>(stored: unknown): T {
  if (typeof stored !== "object" || stored === null || !("json" in stored)) {
    throw new TypeError("stored value is not a superjson payload ({ json, meta })");
  }
  return SuperJSON.deserialize(stored as any) as T;
}
