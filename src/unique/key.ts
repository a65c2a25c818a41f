import { hash } from "node:crypto";
import { InvalidOptionError } from "../errors.js";
import type { SerializedValue } from "../serialize/values.js";
import type { NormalizedUnique } from "./options.js";

/** JSON with object keys sorted, so { a, b } and { b, a } give the same key. Runs once per unique job: no intermediate arrays. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i > 0 ? "," : "") + stableJson(value[i]);
    return out + "]";
  }
  const keys = Object.keys(value);
  if (keys.length > 1) keys.sort();
  let out = "";
  for (let i = 0; i < keys.length; i++) {
    const v = (value as Record<string, unknown>)[keys[i]!];
    if (v !== undefined) out += (out === "" ? "{" : ",") + JSON.stringify(keys[i]) + ":" + stableJson(v);
  }
  return out === "" ? "{}" : out + "}";
}

export interface UniqueSource {
  task: string;
  queue: string;
  /** The captures as serialized (before encryption, which is randomized). */
  captures: SerializedValue;
  meta: Record<string, unknown>;
}

/**
 * The stored unique key: a hash of exactly the parts `by`/`keys` select. Two
 * calls conflict when their keys are equal; the window and states are
 * checked at insert time, not baked into the key.
 */
export function uniqueKey(source: UniqueSource, unique: NormalizedUnique, where: string, digest?: (text: string) => string): string {
  const text = keyText(source, unique, where);
  // One-shot hash: a bulk insert hashes a key per row, and a Hash object per key was most of that time.
  return digest ? digest(text) : hash("sha256", text, "hex");
}

/**
 * stableJson({ captures?, meta?, queue?, task? }) of the selected parts,
 * written field by field in that (sorted) order: the text every earlier
 * version hashed, without building and sorting the object for each job.
 */
function keyText(source: UniqueSource, unique: NormalizedUnique, where: string): string {
  let captures: unknown;
  let meta: unknown;
  if (unique.keys) [captures, meta] = pickKeys(source, unique, where);
  else {
    if (unique.by.includes("captures")) captures = source.captures;
    if (unique.by.includes("meta")) meta = source.meta;
  }
  let out = "";
  const field = (name: string, text: string) => void (out += (out === "" ? "{" : ",") + name + text);
  if (captures !== undefined) field(`"captures":`, stableJson(captures));
  if (meta !== undefined) field(`"meta":`, stableJson(meta));
  if (unique.by.includes("queue")) field(`"queue":`, JSON.stringify(source.queue));
  if (unique.by.includes("task")) field(`"task":`, JSON.stringify(source.task));
  return out === "" ? "{}" : out + "}";
}

/** `unique.keys`: the named captures and meta keys, each found in one of them at least. */
function pickKeys(source: UniqueSource, unique: NormalizedUnique, where: string): [Record<string, unknown> | undefined, Record<string, unknown> | undefined] {
  const captures = (source.captures.json ?? {}) as Record<string, unknown>;
  let pickedCaptures: Record<string, unknown> | undefined;
  let pickedMeta: Record<string, unknown> | undefined;
  for (const key of unique.keys!) {
    const inCaptures = unique.by.includes("captures") && key in captures;
    const inMeta = unique.by.includes("meta") && key in source.meta;
    if (!inCaptures && !inMeta) {
      throw new InvalidOptionError("unique.keys", `names "${key}", which is in neither the ${unique.by.filter((b) => b === "captures" || b === "meta").join(" nor the ")} of ${where}. Use names of captured variables or meta keys.`);
    }
    if (inCaptures) (pickedCaptures ??= {})[key] = captures[key];
    if (inMeta) (pickedMeta ??= {})[key] = source.meta[key];
  }
  return [pickedCaptures, pickedMeta];
}
