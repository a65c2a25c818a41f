import SuperJSON from "superjson";

// superjson silently turns functions into nothing and class instances into
// plain objects. A worker would then run with data that looks right and is
// not, so every value that is not plain JSON is walked before it is
// serialized: the first thing that cannot round-trip is reported with its
// path, and the walk notes whether the value needs the escape pass
// (escape.ts) for what superjson itself cannot carry.

const typedArrays = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
];
const builtins = new Set<unknown>([Date, RegExp, URL, ...typedArrays]);

/** Keys superjson refuses, plus their escaped forms (escape.ts), which must be escaped again to stay distinct. */
export const HOSTILE_KEY = /^~*(?:__proto__|constructor|prototype)$/;

export interface Unserializable {
  path: string;
  reason: string;
}

export interface Inspection {
  problem: Unserializable | null;
  /** Holds sparse-array holes, keys named __proto__/constructor/prototype, an Error or an invalid Date: serialize through the escape pass. */
  needsEscape: boolean;
  /** How deeply objects nest in the value (1: an object of primitives). */
  depth: number;
}

export function isRegisteredClass(ctor: unknown): boolean {
  const instance = (SuperJSON as any).defaultInstance;
  return Boolean(instance?.classRegistry?.getIdentifier(ctor));
}

/** Walks a value once: its first non-serializable part, and whether it needs the escape pass. */
export function inspectValue(value: unknown, path: string): Inspection {
  const walker = new Walker();
  const problem = walker.visit(value, path);
  return { problem, needsEscape: walker.needsEscape, depth: walker.deepest };
}

/** Returns a description of the first non-serializable value, or null. */
export function findUnserializable(value: unknown, path: string): Unserializable | null {
  return inspectValue(value, path).problem;
}

/** The message of something thrown, for a reason in an error message. */
export function describeThrown(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return "an unprintable value";
  }
}

const UNREADABLE = Symbol("unreadable");
/** What the last read that returned UNREADABLE threw. */
let thrown: unknown;
/** object[key], or UNREADABLE when a getter throws (a helper, so the walk's frames stay small: no try in them). */
function read(object: object, key: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch (error) {
    thrown = error;
    return UNREADABLE;
  }
}
const unreadable = (path: string, error: unknown): Unserializable => ({ path, reason: `cannot be read: its getter threw (${describeThrown(error)})` });

class Walker {
  needsEscape = false;
  deepest = 0;
  private depth = 0;
  private readonly seen = new Set<object>();
  /** Inside an instance of a registered class: superjson copies its fields as they are, so only escapes are noted. */
  private lenient = 0;

  visit(value: unknown, path: string): Unserializable | null {
    if (typeof value === "function") return this.refuse(path, "is a function");
    if (typeof value === "symbol") return this.refuse(path, "is a symbol");
    if (typeof value !== "object" || value === null || this.seen.has(value)) return null;
    this.seen.add(value);
    // The same frames per level as before depth was counted (in the container methods): deep values get as deep.
    if (Array.isArray(value)) return this.array(value, path);
    if (value instanceof Map) return this.map(value, path);
    if (value instanceof Set) return this.set(value, path);
    const proto = Object.getPrototypeOf(value);
    if (proto === null || proto === Object.prototype) return this.properties(value, path);
    return this.instance(value, proto, path);
  }

  /** Entering a container: counts the depth (left again only when the walk goes on, i.e. no problem was found). */
  private enter(): void {
    if (++this.depth > this.deepest) this.deepest = this.depth;
  }

  private refuse(path: string, reason: string): Unserializable | null {
    return this.lenient > 0 ? null : { path, reason };
  }

  private array(array: unknown[], path: string): Unserializable | null {
    this.enter();
    for (let i = 0; i < array.length; i++) {
      if (!(i in array)) {
        this.needsEscape = true;
        continue;
      }
      const found = this.visit(array[i], `${path}[${i}]`);
      if (found) return found;
    }
    this.depth--;
    return null;
  }

  private map(map: Map<unknown, unknown>, path: string): Unserializable | null {
    this.enter();
    let i = 0;
    for (const [k, v] of map) {
      const found = this.visit(k, `${path}.<key ${i}>`) ?? this.visit(v, `${path}.get(${JSON.stringify(String(k))})`);
      if (found) return found;
      i++;
    }
    this.depth--;
    return null;
  }

  private set(set: Set<unknown>, path: string): Unserializable | null {
    this.enter();
    let i = 0;
    for (const v of set) {
      const found = this.visit(v, `${path}.<item ${i++}>`);
      if (found) return found;
    }
    this.depth--;
    return null;
  }

  private properties(object: object, path: string): Unserializable | null {
    this.enter();
    for (const key of Object.keys(object)) {
      if (HOSTILE_KEY.test(key)) this.needsEscape = true;
      const value = read(object, key);
      if (value === UNREADABLE) return unreadable(`${path}.${key}`, thrown);
      const found = this.visit(value, `${path}.${key}`);
      if (found) return found;
    }
    this.depth--;
    return null;
  }

  /** Visits object[key] (a getter that throws is reported at its path: serializing would read it too). */
  private property(object: object, key: string, path: string): Unserializable | null {
    const value = read(object, key);
    return value === UNREADABLE ? unreadable(path, thrown) : this.visit(value, path);
  }

  /** Name, message and stack are text; its cause, an AggregateError's errors and its own enumerable properties are values like any other. */
  private error(error: Error, path: string): Unserializable | null {
    this.needsEscape = true;
    const keys = Object.keys(error);
    let found: Unserializable | null = null;
    if ("cause" in error && !keys.includes("cause")) found = this.property(error, "cause", `${path}.cause`);
    if (!found && Object.hasOwn(error, "errors") && !keys.includes("errors")) found = this.property(error, "errors", `${path}.errors`);
    return found ?? this.properties(error, path);
  }

  private instance(object: object, proto: object, path: string): Unserializable | null {
    if (object instanceof Promise) return this.refuse(path, "is a Promise (await it before the call and capture the value)");
    if (object instanceof WeakMap || object instanceof WeakSet || object instanceof WeakRef) {
      return this.refuse(path, `is a ${object.constructor.name}, which cannot be copied`);
    }
    // Errors (registered subclasses too) and invalid Dates go through the escape pass, which keeps all of them.
    if (object instanceof Error) return this.error(object, path);
    const ctor = (proto as { constructor?: unknown }).constructor;
    if (ctor === Date && Number.isNaN((object as Date).getTime())) this.needsEscape = true;
    if (builtins.has(ctor)) return null;
    if (isRegisteredClass(ctor)) {
      this.lenient++;
      try {
        return this.properties(object, path);
      } finally {
        this.lenient--;
      }
    }
    const name = typeof ctor === "function" && ctor.name ? ctor.name : "an unnamed class";
    if (typeof (object as any).pipe === "function" || typeof (object as any).on === "function") {
      return this.refuse(path, `is a ${name} (a stream, socket or emitter), which cannot be copied to another process`);
    }
    return this.refuse(path, `is an instance of ${name}, which is not registered with superjson (SuperJSON.registerClass(${name})) and would arrive as a plain object`);
  }
}
