import SuperJSON from "superjson";
import { isRegisteredClass } from "./check.js";

// What superjson cannot carry, carried around it. superjson refuses any
// object key named __proto__, constructor or prototype once a value needs
// its type annotations ("prototype pollution risk"), writes sparse-array
// holes and invalid Dates as null, and keeps of an Error only its message,
// name and cause (as a plain Error). It also restores shared references and
// cycles only through plain objects, arrays, Maps and Sets, never through a
// class instance or an Error. Before such a value is serialized, a copy is
// made where
//   - a key matching ~*(__proto__|constructor|prototype|@durable) gets one
//     more "~" (a bijection: "~constructor" written by the user becomes
//     "~~constructor" and comes back as it was), so no key of the user's is
//     ever exactly "@durable", and
//   - an array with holes, an invalid Date and an Error each become a plain
//     object tagged with a "@durable" key (a marker, see Marker below),
//     which superjson walks like any plain object: references to and from
//     it survive.
// The payload is marked `esc: 2`, and only marked payloads are unescaped,
// in place on the freshly deserialized value, keys in their original order.
// Shared references and cycles survive: both passes keep a memo.
//
// `esc: 1` payloads (written before markers existed) are still read: their
// holey arrays are instances of the registered SparseArray class and their
// escaped keys cover __proto__/constructor/prototype only.

export type EscapeVersion = 1 | 2;
/** The version escapeValue writes. */
export const ESCAPE_VERSION = 2;

const MARK = "@durable";
const ESCAPE_KEY = /^~*(?:__proto__|constructor|prototype|@durable)$/;
const ESCAPED_KEY: Record<EscapeVersion, RegExp> = {
  1: /^~+(?:__proto__|constructor|prototype)$/,
  2: /^~+(?:__proto__|constructor|prototype|@durable)$/,
};

/**
 * What a marker stands for:
 *   { "@durable": "holes", length, entries: [[index, value], …] }   an array with holes
 *   { "@durable": "invalid-date" }                                     new Date(NaN)
 *   { "@durable": "error", type, class?, name, message, stack?, cause?, errors?, props? }
 * An error's `type` is its nearest built-in error class (Error, TypeError, …,
 * AggregateError), `class` the superjson identifier of its own class when
 * that is registered, `cause`/`errors` its non-enumerable own (or inherited)
 * cause and AggregateError errors, and `props` its own enumerable properties.
 */
type Marker = Record<string, unknown>;

const ERROR_CLASSES = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError,
} as const satisfies Record<string, ErrorConstructor | AggregateErrorConstructor>;
type ErrorType = keyof typeof ERROR_CLASSES;
const ERROR_TYPE_OF = new Map<object, ErrorType>(Object.entries(ERROR_CLASSES).map(([name, ctor]) => [ctor.prototype, name as ErrorType]));

/** The nearest built-in error class on the prototype chain of `error`. */
function errorType(error: Error): ErrorType {
  for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const type = ERROR_TYPE_OF.get(proto);
    if (type) return type;
  }
  return "Error";
}

const registry = () => (SuperJSON as any).defaultInstance.classRegistry as { getIdentifier(v: unknown): string | undefined; getValue(id: string): unknown };

// One class per process, shared by every copy of this package, so the
// identifier superjson holds always names the class this copy checks for.
// Only `esc: 1` payloads hold it now.
interface SparseArrayShape {
  length: number;
  entries: Array<[number, unknown]>;
}
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
  if (Array.isArray(value)) {
    if (hasHoles(value)) return escapeHoles(value, memo);
    // Copied here, not in a helper: one frame per level lets deep values go as deep as before.
    const copy: unknown[] = [];
    memo.set(value, copy);
    for (let i = 0; i < value.length; i++) copy.push(escapeValue(value[i], memo));
    return copy;
  }
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
  if (value instanceof Error) return escapeError(value, memo);
  if (value instanceof Date) {
    if (!Number.isNaN(value.getTime())) return value;
    const marker = { [MARK]: "invalid-date" };
    memo.set(value, marker);
    return marker;
  }
  const proto = Object.getPrototypeOf(value);
  const plain = proto === null || proto === Object.prototype;
  if (!plain && !isRegisteredClass(proto.constructor)) return value;
  const copy: Record<string, unknown> = plain ? {} : Object.create(proto);
  memo.set(value, copy);
  for (const key of Object.keys(value)) copy[ESCAPE_KEY.test(key) ? `~${key}` : key] = escapeValue((value as Record<string, unknown>)[key], memo);
  return copy;
}

function hasHoles(array: unknown[]): boolean {
  for (let i = 0; i < array.length; i++) if (!(i in array)) return true;
  return false;
}

function escapeHoles(array: unknown[], memo: Map<object, unknown>): Marker {
  const entries: Array<[number, unknown]> = [];
  const marker: Marker = { [MARK]: "holes", length: array.length, entries };
  memo.set(array, marker);
  array.forEach((item, i) => entries.push([i, escapeValue(item, memo)]));
  return marker;
}

function escapeError(error: Error, memo: Map<object, unknown>): Marker {
  const marker: Marker = { [MARK]: "error", type: errorType(error) };
  memo.set(error, marker);
  const ctor = Object.getPrototypeOf(error)?.constructor;
  const identifier = typeof ctor === "function" && !ERROR_TYPE_OF.has(ctor.prototype) ? registry().getIdentifier(ctor) : undefined;
  if (identifier !== undefined) marker.class = identifier;
  const { name, message, stack } = error;
  if (typeof name === "string") marker.name = name;
  // An Error made without a message has none of its own (it reads the prototype's ""): so does its copy.
  if (typeof message === "string" && (message !== "" || Object.hasOwn(error, "message"))) marker.message = message;
  if (typeof stack === "string") marker.stack = stack;
  const keys = Object.keys(error);
  if ("cause" in error && !keys.includes("cause")) marker.cause = escapeValue(error.cause, memo);
  if (Object.hasOwn(error, "errors") && !keys.includes("errors")) marker.errors = escapeValue((error as AggregateError).errors, memo);
  if (keys.length > 0) {
    const props: Record<string, unknown> = (marker.props = {});
    for (const key of keys) props[ESCAPE_KEY.test(key) ? `~${key}` : key] = escapeValue((error as unknown as Record<string, unknown>)[key], memo);
  }
  return marker;
}

/** Undoes escapeValue (`esc` 1 or 2) on a freshly deserialized value (mutates it; returns the value to use). */
export function unescapeValue(value: unknown, version: EscapeVersion = 1): unknown {
  return new Unescaper(version).visit(value);
}

const isIndex = (n: unknown, below: number): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) < below;
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const define = (object: object, key: string, value: unknown, enumerable: boolean) =>
  Object.defineProperty(object, key, { value, enumerable, writable: true, configurable: true });

class Unescaper {
  private readonly memo = new Map<object, unknown>();
  private readonly escaped: RegExp;

  constructor(private readonly version: EscapeVersion) {
    this.escaped = ESCAPED_KEY[version];
  }

  visit(value: unknown): unknown {
    if (typeof value !== "object" || value === null) return value;
    if (this.memo.has(value)) return this.memo.get(value);
    if (this.version === 1 && value instanceof SparseArray) return this.holes(value, value.length, value.entries);
    if (this.version === 2 && isPlainObject(value) && Object.hasOwn(value, MARK)) return this.marker(value);
    this.memo.set(value, value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.visit(value[i]);
    } else if (value instanceof Map) {
      const entries = [...value].map(([k, v]) => [this.visit(k), this.visit(v)] as const);
      value.clear();
      for (const [k, v] of entries) value.set(k, v);
    } else if (value instanceof Set) {
      const items = [...value].map((v) => this.visit(v));
      value.clear();
      for (const v of items) value.add(v);
    } else {
      this.properties(value as Record<string, unknown>);
    }
    return value;
  }

  private marker(marker: Marker): unknown {
    switch (marker[MARK]) {
      case "holes":
        return this.holes(marker, marker.length, marker.entries);
      case "invalid-date": {
        const date = new Date(Number.NaN);
        this.memo.set(marker, date);
        return date;
      }
      case "error":
        return this.error(marker);
      default:
        throw new TypeError(`unknown marker ${JSON.stringify(String(marker[MARK]))} (written by a newer version of durable-async?)`);
    }
  }

  private holes(source: object, length: unknown, entries: unknown): unknown[] {
    // Stored data picks these numbers: only real array indices, never a key like "__proto__".
    if (!isIndex(length, 2 ** 32) || !Array.isArray(entries)) throw new TypeError("malformed sparse array");
    const array = new Array(length);
    this.memo.set(source, array);
    for (const entry of entries) {
      if (!Array.isArray(entry) || !isIndex(entry[0], length)) throw new TypeError("malformed sparse array entry");
      array[entry[0]] = this.visit(entry[1]);
    }
    return array;
  }

  private error(marker: Marker): Error {
    const type: ErrorType = typeof marker.type === "string" && Object.hasOwn(ERROR_CLASSES, marker.type) ? (marker.type as ErrorType) : "Error";
    const base = ERROR_CLASSES[type];
    // A registered subclass comes back as itself (its constructor is not run, as superjson does for classes).
    const registered = typeof marker.class === "string" ? registry().getValue(marker.class) : undefined;
    const target = typeof registered === "function" && registered.prototype instanceof base ? registered : base;
    const message = typeof marker.message === "string" ? marker.message : undefined;
    const error: Error = Reflect.construct(base, type === "AggregateError" ? [[], message] : [message], target);
    this.memo.set(marker, error);
    if (typeof marker.stack === "string") define(error, "stack", marker.stack, false);
    const props = isPlainObject(marker.props) ? marker.props : undefined;
    if (typeof marker.name === "string" && error.name !== marker.name && !(props && Object.hasOwn(props, "name"))) define(error, "name", marker.name, false);
    if (Object.hasOwn(marker, "cause")) define(error, "cause", this.visit(marker.cause), false);
    if (Object.hasOwn(marker, "errors")) define(error, "errors", this.visit(marker.errors), false);
    if (props) {
      // defineProperty: an own "__proto__" key, never the prototype setter.
      for (const key of Object.keys(props)) define(error, this.escaped.test(key) ? key.slice(1) : key, this.visit(props[key]), true);
    }
    return error;
  }

  private properties(object: Record<string, unknown>): void {
    const keys = Object.keys(object);
    if (!keys.some((k) => this.escaped.test(k))) {
      for (const key of keys) object[key] = this.visit(object[key]);
      return;
    }
    // Renamed keys must keep their place: rebuild the object's own keys in order.
    const entries = keys.map((key) => [this.escaped.test(key) ? key.slice(1) : key, this.visit(object[key])] as const);
    for (const key of keys) delete object[key];
    for (const [key, v] of entries) define(object, key, v, true);
  }
}
