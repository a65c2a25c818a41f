// What Postgres' jsonb (and text) cannot hold: U+0000, and UTF-16 code
// units that are half of a surrogate pair with no other half (a string cut
// in the middle of an emoji). JSON.stringify writes both as \u escapes,
// which jsonb rejects (22P05 / 22P02) and text cannot carry at all. Every
// other code point, control characters included, is storable.

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g");

/** True when jsonb and text can hold `text` as is. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * A storable text form of `text` for messages meant to be read (error
 * messages, stacks, progress): each unstorable code unit becomes its
 * visible escape (`\u0000`, `\ud83d`), so nothing is lost or invented.
 */
export function storableText(text: string): string {
  if (isStorableText(text)) return text;
  return text.replace(UNSTORABLE_ALL, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Cuts `text` to at most `max` UTF-16 units without leaving half of a surrogate pair at the cut. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}

/** Describes the first unstorable code unit of `text`, for error messages that name a path. */
export function unstorableReason(text: string): string | null {
  const match = UNSTORABLE.exec(text);
  if (!match) return null;
  const unit = match[0].charCodeAt(0);
  const hex = `U+${unit.toString(16).toUpperCase().padStart(4, "0")}`;
  return unit === 0 ? `holds a NUL character (${hex}) at index ${match.index}` : `holds a lone surrogate (${hex}, half of a character cut in two) at index ${match.index}`;
}

/** The UTF-8 size of `text` when it is over `max` bytes, else null; measures only when it could be over. */
export function bytesOver(text: string, max: number): number | null {
  // Each UTF-16 unit takes at most 3 UTF-8 bytes.
  if (text.length * 3 <= max) return null;
  const bytes = Buffer.byteLength(text);
  return bytes > max ? bytes : null;
}
