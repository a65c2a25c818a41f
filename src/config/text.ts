import { InvalidOptionError } from "../errors.js";
import { unstorableReason } from "../serialize/text.js";
import { describe } from "./duration.js";

// Values a filter or a control call sends to Postgres as text or jsonb. A NUL
// cannot be stored in either, and jsonb refuses the escape of a lone UTF-16
// surrogate (serialize/text.ts); both used to come back as raw server errors
// (22021, 22P05). Checked here, they name the argument instead.

/** Throws an error naming `option` when `text` cannot be sent to Postgres. */
export function assertStorableText(option: string, text: string): string {
  const problem = unstorableReason(text);
  if (problem) throw new InvalidOptionError(option, `${problem}, which Postgres cannot store. Remove the character.`);
  return text;
}

/** Plain JSON a jsonb comparison can take, as text; anything else names its path. */
export function filterJson(option: string, value: unknown): string {
  checkJson(option, value, 0);
  return JSON.stringify(value);
}

function checkJson(path: string, value: unknown, depth: number): void {
  if (depth > 32) throw new InvalidOptionError(path, "is nested too deeply (over 32 levels).");
  if (value === null || typeof value === "boolean") return;
  if (typeof value === "string") return void assertStorableText(path, value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InvalidOptionError(path, `is ${value}, which JSON cannot hold. Use a finite number or a string.`);
    return;
  }
  if (Array.isArray(value)) return value.forEach((v, i) => checkJson(`${path}[${i}]`, v, depth + 1));
  if (typeof value === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    for (const [key, v] of Object.entries(value)) {
      assertStorableText(`${path} key ${JSON.stringify(key)}`, key);
      checkJson(`${path}.${key}`, v, depth + 1);
    }
    return;
  }
  throw new InvalidOptionError(path, `expected plain JSON (strings, finite numbers, booleans, null, arrays, plain objects), got ${describe(value)}.`);
}

/** Postgres timestamps start in 4713 BC; JavaScript dates reach further back. */
const EARLIEST = Date.UTC(-4712, 0, 1);

export function assertStorableDate(option: string, value: Date): Date {
  if (value.getTime() < EARLIEST) throw new InvalidOptionError(option, `is before 4713 BC, the earliest time Postgres stores. Pass a later Date.`);
  return value;
}
