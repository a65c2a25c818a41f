// Body hash: lets the runtime notice that a job was enqueued by a different
// version of a closure. It must ignore formatting and comments (a reformat is
// not a change) and must not see positions (moving code is not a change).
// It detects edits; it is not a security boundary (the code comes from the
// build), so it is a 64-bit mixing hash in plain JavaScript: importing
// node:crypto for SHA-256 cost a cold build 4-5 ms before the first file.
import type { Comment, Node } from "./syntax.js";

const WORD = /[\p{ID_Continue}$\u200c\u200d\\]/u;
const BLANKS = /\s+/;

/**
 * The closure's code without trivia: comments dropped, whitespace between
 * tokens dropped except one space where two word characters would merge.
 * Text inside string, regex, template and JSX-text literals is kept as is.
 * Code between literals and comments is split on whitespace runs by a regex,
 * not walked character by character: this runs cold, once per call site.
 */
export function normalizedCode(source: string, range: { start: number; end: number }, comments: readonly Comment[], literals: readonly Node[]): string {
  const byStart = (a: { start: number }, b: { start: number }) => a.start - b.start;
  const verbatim = literals.filter((l) => l.start >= range.start && l.end <= range.end).sort(byStart);
  const skipped = comments.filter((c) => c.start >= range.start && c.end <= range.end).sort(byStart);
  let out = "";
  let pendingSpace = false;
  const emit = (text: string): void => {
    if (pendingSpace && out.length > 0 && WORD.test(out[out.length - 1]!) && WORD.test(text[0]!)) out += " ";
    out += text;
    pendingSpace = false;
  };
  let v = 0;
  let c = 0;
  for (let i = range.start; i < range.end;) {
    const nextLiteral = v < verbatim.length ? verbatim[v]!.start : Infinity;
    const nextComment = c < skipped.length ? skipped[c]!.start : Infinity;
    if (i === nextLiteral) {
      emit(source.slice(i, verbatim[v]!.end));
      i = verbatim[v++]!.end;
      continue;
    }
    if (i === nextComment) {
      pendingSpace = true;
      i = skipped[c++]!.end;
      continue;
    }
    // Plain code up to the next literal or comment (a stale entry, one that
    // starts before i, is never reached, as in a character-by-character walk).
    let stop = range.end;
    if (nextLiteral > i && nextLiteral < stop) stop = nextLiteral;
    if (nextComment > i && nextComment < stop) stop = nextComment;
    const words = source.slice(i, stop).split(BLANKS);
    for (let k = 0; k < words.length; k++) {
      if (k > 0) pendingSpace = true;
      if (words[k]!.length > 0) emit(words[k]!);
    }
    i = stop;
  }
  return out;
}

/** 16 hex digits over the closure's normalized code and its capture names. */
export function bodyHash(normalizedCode: string, captures: readonly string[]): string {
  return hash64(`${normalizedCode}\0${captures.join(",")}`);
}

const utf8 = new TextEncoder();
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Two 32-bit multiply-xor lanes over the text's UTF-8 bytes, taken four at
 * a time as little-endian words (a build hashes each call site once, cold:
 * a quarter of the loop turns of a per-character hash runs 2-4× faster in
 * V8's interpreter), each half of the result mixed from both lanes at the
 * end (the structure of bryc's public-domain cyrb53, kept at 64 bits). The
 * words come from a Uint32Array view where the platform is little-endian,
 * and are assembled from bytes elsewhere: the same digest on every machine.
 * (Lone surrogates encode as U+FFFD, which no edit detection misses in practice.)
 */
export function hash64(text: string, view = LITTLE_ENDIAN): string {
  const bytes = utf8.encode(text);
  const whole = bytes.length >>> 2;
  let a = 0xdeadbeef ^ bytes.length;
  let b = 0x41c6ce57 ^ bytes.length;
  const words = view && (bytes.byteOffset & 3) === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, whole) : undefined;
  for (let i = 0; i < whole; i++) {
    const k = i << 2;
    const word = words ? words[i]! : bytes[k]! | (bytes[k + 1]! << 8) | (bytes[k + 2]! << 16) | (bytes[k + 3]! << 24);
    a = Math.imul(a ^ word, 0x9e3779b1);
    b = Math.imul(b ^ word, 0x5f356495);
  }
  for (let k = whole << 2; k < bytes.length; k++) {
    a = Math.imul(a ^ bytes[k]!, 0x9e3779b1);
    b = Math.imul(b ^ bytes[k]!, 0x5f356495);
  }
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  return hex8(b) + hex8(a);
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
