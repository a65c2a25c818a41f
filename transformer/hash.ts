// Body hash: lets the runtime notice that a job was enqueued by a different
// version of a closure. It must ignore formatting and comments (a reformat is
// not a change) and must not see positions (moving code is not a change).
import { createHash } from "node:crypto";
import type { Comment, Node } from "./syntax.js";

const WORD = /[\p{ID_Continue}$\u200c\u200d\\]/u;
const SPACE = /\s/;

/**
 * The closure's code without trivia: comments dropped, whitespace between
 * tokens dropped except one space where two word characters would merge.
 * Text inside string, regex, template and JSX-text literals is kept as is.
 */
export function normalizedCode(source: string, range: { start: number; end: number }, comments: readonly Comment[], literals: readonly Node[]): string {
  const byStart = (a: { start: number }, b: { start: number }) => a.start - b.start;
  const verbatim = literals.filter((l) => l.start >= range.start && l.end <= range.end).sort(byStart);
  const skipped = comments.filter((c) => c.start >= range.start && c.end <= range.end).sort(byStart);
  let out = "";
  let pendingSpace = false;
  let v = 0;
  let c = 0;
  for (let i = range.start; i < range.end;) {
    if (v < verbatim.length && i === verbatim[v]!.start) {
      const text = source.slice(i, verbatim[v]!.end);
      if (pendingSpace && WORD.test(out.at(-1) ?? "") && WORD.test(text[0]!)) out += " ";
      out += text;
      pendingSpace = false;
      i = verbatim[v++]!.end;
      continue;
    }
    if (c < skipped.length && i === skipped[c]!.start) {
      pendingSpace = true;
      i = skipped[c++]!.end;
      continue;
    }
    const ch = source[i]!;
    if (SPACE.test(ch)) {
      pendingSpace = true;
    } else {
      if (pendingSpace && WORD.test(out.at(-1) ?? "") && WORD.test(ch)) out += " ";
      out += ch;
      pendingSpace = false;
    }
    i++;
  }
  return out;
}

export function bodyHash(normalizedCode: string, captures: readonly string[]): string {
  return createHash("sha256").update(`${normalizedCode}\0${captures.join(",")}`).digest("hex").slice(0, 16);
}
