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
    return `${out}]`;
  }
  const keys = Object.keys(value);
  if (keys.length > 1) keys.sort();
  let out = "{";
  let first = true;
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    out += `${first ? "" : ","}${JSON.stringify(k)}:${stableJson(v)}`;
    first = false;
  }
  return `${out}}`;
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
  const parts: Record<string, unknown> = {};
  const captures = (source.captures.json ?? {}) as Record<string, unknown>;
  if (unique.by.includes("task")) parts.task = source.task;
  if (unique.by.includes("queue")) parts.queue = source.queue;
  if (unique.keys) {
    for (const key of unique.keys) {
      const inCaptures = unique.by.includes("captures") && key in captures;
      const inMeta = unique.by.includes("meta") && key in source.meta;
      if (!inCaptures && !inMeta) {
        throw new InvalidOptionError("unique.keys", `names "${key}", which is in neither the ${unique.by.filter((b) => b === "captures" || b === "meta").join(" nor the ")} of ${where}. Use names of captured variables or meta keys.`);
      }
      if (inCaptures) (parts.captures ??= {} as any)[key] = captures[key];
      if (inMeta) (parts.meta ??= {} as any)[key] = source.meta[key];
    }
  } else {
    if (unique.by.includes("captures")) parts.captures = source.captures;
    if (unique.by.includes("meta")) parts.meta = source.meta;
  }
  const text = stableJson(parts);
  // One-shot hash: a bulk insert hashes a key per row, and a Hash object per key was most of that time.
  return digest ? digest(text) : hash("sha256", text, "hex");
}
