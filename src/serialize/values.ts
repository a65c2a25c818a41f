import SuperJSON from "superjson";
import { NotSerializableError } from "../errors.js";
import { describeThrown, inspectValue } from "./check.js";
import { ESCAPE_VERSION, escapeValue, unescapeValue, type EscapeVersion } from "./escape.js";

export { findUnserializable } from "./check.js";

// Captures and results are stored as superjson payloads ({ json, meta }) in
// json columns (migrations/0002): the text is kept as written, so key
// order, NUL and lone surrogates (JSON.stringify writes both as \u escapes)
// come back exactly. Plain JSON skips superjson both ways; what superjson
// cannot carry (holes, keys named __proto__/constructor/prototype, Errors,
// invalid Dates) goes through escape.ts and is marked `esc: 2` (`esc: 1`,
// an older form of the escape pass, is still read).

export interface SerializedValue {
  json: unknown;
  meta?: unknown;
  /** Set when the value went through the escape pass (escape.ts): the version of that pass. */
  esc?: EscapeVersion;
}

/**
 * Past this nesting depth a value is test-written before it is returned:
 * JSON.stringify (which every caller runs on the payload) recurses on the
 * native stack and runs out of it at a depth (about 5000 levels from a
 * shallow stack) below the one our own walks reach, with a bare RangeError.
 */
const DEEP = 100;
/** Levels the test adds above the payload: room for the few frames between us and the caller's JSON.stringify (encryption). */
const STACK_MARGIN = 32;

/** The depth isPlainJson reached (its last run). */
let deepest = 0;

/**
 * True when the value is plain JSON that superjson would pass through as
 * `{ json: value }` with no meta: no undefined, NaN, ±Infinity, -0, bigint,
 * holes, class instances, __proto__ keys, or shared/cyclic references
 * (superjson records those).
 */
function isPlainJson(value: unknown, seen: Set<object>, depth: number): boolean {
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
      if (depth > deepest) deepest = depth;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!(i in value) || !isPlainJson(value[i], seen, depth + 1)) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const key in value) {
        if (key === "__proto__" || !isPlainJson((value as Record<string, unknown>)[key], seen, depth + 1)) return false;
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
    if (isFlatPlainJson(value)) return { json: value };
    deepest = 0;
    if (isPlainJson(value, new Set(), 1)) return deepest > DEEP ? writable({ json: value }) : { json: value };
    const { problem, needsEscape, depth } = inspectValue(value, rootPath);
    if (problem) throw new NotSerializableError(problem.path, problem.reason, where);
    const payload: SerializedValue = needsEscape
      ? { ...(SuperJSON.serialize(escapeValue(value) as any) as SerializedValue), esc: ESCAPE_VERSION }
      : (SuperJSON.serialize(value as any) as SerializedValue);
    return depth > DEEP ? writable(payload) : payload;
  } catch (error) {
    if (error instanceof NotSerializableError) throw error;
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new NotSerializableError(rootPath, "is nested too deeply to serialize", where);
    }
    // A getter that throws (the quick walks above read every property first), a Proxy, …: our walk names the path when it can.
    const found = locate(value, rootPath);
    if (found) throw new NotSerializableError(found.path, found.reason, where);
    // superjson's own refusals (a custom transformer that throws, ...): coded, with the path we know.
    throw new NotSerializableError(rootPath, `cannot be serialized (${describeThrown(error)})`, where);
  }
}

/** The payload, once JSON.stringify is known to get through it with room to spare; else the RangeError it throws. */
function writable(payload: SerializedValue): SerializedValue {
  let wrapped: unknown = payload;
  for (let i = 0; i < STACK_MARGIN; i++) wrapped = [wrapped];
  JSON.stringify(wrapped);
  return payload;
}

function locate(value: unknown, rootPath: string) {
  try {
    return inspectValue(value, rootPath).problem;
  } catch {
    return null;
  }
}

export function deserialize<T = unknown>(stored: unknown): T {
  if (typeof stored !== "object" || stored === null || !("json" in stored)) {
    throw new TypeError("stored value is not a superjson payload ({ json, meta })");
  }
  const payload = stored as SerializedValue;
  const { esc } = payload;
  if (esc !== undefined && esc !== 1 && esc !== 2) {
    throw new TypeError(`stored value was written with escape pass ${JSON.stringify(esc)}, which this version of durable-async cannot read (upgrade it)`);
  }
  // No meta: plain JSON, already a fresh copy (parsed from the row). superjson
  // would copy it again and drop own __proto__ keys on the way.
  const value = payload.meta === undefined || payload.meta === null ? payload.json : SuperJSON.deserialize(payload as any);
  return (esc === undefined ? value : unescapeValue(value, esc)) as T;
}

/** The trip a value makes through a row: to JSON text and back (the testing modes use it in place of the database). */
export function roundTrip<T = unknown>(serialized: SerializedValue): T {
  return deserialize<T>(JSON.parse(JSON.stringify(serialized)));
}
