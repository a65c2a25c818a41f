// Equality and snapshots of job options, so equal options passed again (a loop,
// a bulk call) reuse one validated normalization.

/**
 * Structural equality for job options: plain objects, arrays and primitives
 * compared by value; anything else (a pg client, a Date) by identity, so a
 * reused normalization is exactly what a fresh one would be.
 */
export function sameOptions(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (depth > 4 || typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameOptions(a[i], b[i], depth + 1)) return false;
    return true;
  }
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(b, key) || !sameOptions((a as any)[key], (b as any)[key], depth + 1)) return false;
  }
  return true;
}

/** A copy of the plain parts of an options object (non-plain values, like a pg client, by reference). */
export function snapshotOptions(value: unknown, depth = 0): unknown {
  if (typeof value !== "object" || value === null || depth > 4) return value;
  if (Array.isArray(value)) return value.map((v) => snapshotOptions(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = snapshotOptions((value as Record<string, unknown>)[key], depth + 1);
  return copy;
}

