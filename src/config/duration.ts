import { InvalidOptionError } from "../errors.js";

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses "500ms", "10s", "5m", "1h30m", "24h", "7d" (or a number of
 * milliseconds) into milliseconds. Compound forms are summed.
 */
export function parseDuration(option: string, value: unknown): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new InvalidOptionError(option, `expected a non-negative number of milliseconds or a duration like "5m", got ${value}.`);
    }
    return value;
  }
  if (typeof value !== "string") {
    throw new InvalidOptionError(option, `expected a duration like "30s", "5m" or "1h30m", got ${describe(value)}.`);
  }
  const text = value.trim();
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;
  let total = 0;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = re.exec(text)) !== null) {
    total += Number(match[1]) * UNITS[match[2]!]!;
    consumed = re.lastIndex;
  }
  if (text.length === 0 || consumed !== text.length) {
    throw new InvalidOptionError(option, `"${value}" is not a duration. Use forms like "500ms", "30s", "5m", "1h30m", "24h" or "7d".`);
  }
  return total;
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object") return "an object";
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  return `${typeof value} ${String(value)}`;
}

export { formatDuration } from "./format-duration.js";
