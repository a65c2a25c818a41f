import SuperJSON from "superjson";
import { NotSerializableError } from "../errors.js";
import { inspectValue } from "./check.js";
import { escapeValue, unescapeValue } from "./escape.js";

export { findUnserializable } from "./check.js";

// Captures and results are stored as superjson payloads ({ json, meta }) in
// json columns (migrations/0002): the text is kept as written, so key
// order, NUL and lone surrogates (JSON.stringify writes both as \u escapes)
// come back exactly. Plain JSON skips superjson both ways; what superjson
// cannot carry (holes, keys named __proto__/constructor/prototype) goes
// through escape.ts and is marked `esc: 1`.

export interface SerializedValue {
  json: unknown;
  meta?: unknown;
  /** Set when the value went through the escape pass (escape.ts). */
  esc?: 1;
}

/**
 * True when the value is plain JSON that superjson would pass through as
 * `{ json: value }` with no meta: no undefined, NaN, ±Infinity, -0, bigint,
 * holes, class instances, __proto__ keys, or shared/cyclic references
 * (superjson records those).
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

/** Serializes after checking; `rootPath` ("captures", "result") starts the path an error names, `where` the call site. */
export function serializeChecked(value: unknown, rootPath: string, where: string): SerializedValue {
  try {
    // Most captures are plain data: one cheap walk instead of our check plus superjson's.
    if (isFlatPlainJson(value) || isPlainJson(value, new Set())) return { json: value };
    const { problem, needsEscape } = inspectValue(value, rootPath);
    if (problem) throw new NotSerializableError(problem.path, problem.reason, where);
    if (!needsEscape) return SuperJSON.serialize(value as any) as SerializedValue;
    return { ...(SuperJSON.serialize(escapeValue(value) as any) as SerializedValue), esc: 1 };
  } catch (error) {
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new NotSerializableError(rootPath, "is nested too deeply to serialize", where);
    }
    if (error instanceof NotSerializableError) throw error;
    // superjson's own refusals (a custom transformer that throws, ...): coded, with the path we know.
    throw new NotSerializableError(rootPath, `cannot be serialized (${(error as Error)?.message ?? String(error)})`, where);
  }
}

export function deserialize<T = unknown>(stored: unknown): T {
  if (typeof stored !== "object" || stored === null || !("json" in stored)) {
    throw new TypeError("stored value is not a superjson payload ({ json, meta })");
  }
  const payload = stored as SerializedValue;
  // No meta: plain JSON, already a fresh copy (parsed from the row). superjson
  // would copy it again and drop own __proto__ keys on the way.
  const value = payload.meta === undefined || payload.meta === null ? payload.json : SuperJSON.deserialize(payload as any);
  return (payload.esc === 1 ? unescapeValue(value) : value) as T;
}

/** The trip a value makes through a row: to JSON text and back (the testing modes use it in place of the database). */
export function roundTrip<T = unknown>(serialized: SerializedValue): T {
  return deserialize<T>(JSON.parse(JSON.stringify(serialized)));
}
