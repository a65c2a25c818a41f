// Body hash: lets the runtime notice that a job was enqueued by a different
// version of a closure. It must ignore formatting and comments (a reformat is
// not a change) and must not see positions (moving code is not a change).
import { hash } from "node:crypto";
import type { Comment, Node } from "./syntax.js";

const WORD = /[\p{ID_Continue}$\u200c\u200d\\]/u;
const BLANKS = /(\s+)/;
const LINE_BREAK = /[\n\r\u2028\u2029]/;
/**
 * Keywords that a line break ends (`return⏎x` returns undefined, `async⏎f`
 * is no async function): ECMAScript's restricted productions. The other one
 * is a line break before postfix `++`/`--` (`a⏎++b` is `a; ++b`).
 */
const RESTRICTED_BEFORE_BREAK = /(?:^|[^\p{ID_Continue}$\u200c\u200d\\.])(?:return|throw|break|continue|yield|async)$/u;

/**
 * The closure's code without trivia: comments dropped, whitespace between
 * tokens dropped except one space where two word characters would merge, and
 * a line break kept where automatic semicolon insertion reads it (after
 * `return`, `throw`, `break`, `continue`, `yield`, `async`; before `++`/`--`),
 * so code that means something else never hashes the same.
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
  let pendingBreak = false;
  const emit = (text: string): void => {
    if (pendingBreak && out.length > 0 && (text.startsWith("++") || text.startsWith("--") || RESTRICTED_BEFORE_BREAK.test(out))) out += "\n";
    else if (pendingSpace && out.length > 0 && WORD.test(out[out.length - 1]!) && WORD.test(text[0]!)) out += " ";
    out += text;
    pendingSpace = false;
    pendingBreak = false;
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
      // A block comment holding a line break counts as one for semicolon insertion.
      pendingBreak ||= LINE_BREAK.test(source.slice(i, skipped[c]!.end));
      i = skipped[c++]!.end;
      continue;
    }
    // Plain code up to the next literal or comment (a stale entry, one that
    // starts before i, is never reached, as in a character-by-character walk).
    let stop = range.end;
    if (nextLiteral > i && nextLiteral < stop) stop = nextLiteral;
    if (nextComment > i && nextComment < stop) stop = nextComment;
    const parts = source.slice(i, stop).split(BLANKS);
    for (let k = 0; k < parts.length; k++) {
      const part = parts[k]!;
      if (k % 2 === 1) {
        pendingSpace = true;
        pendingBreak ||= LINE_BREAK.test(part);
      } else if (part.length > 0) {
        emit(part);
      }
    }
    i = stop;
  }
  return out;
}

/** One-shot hash(): a Hash object per call site cost twice as much in a cold build (same digest). */
export function bodyHash(normalizedCode: string, captures: readonly string[]): string {
  return hash("sha256", `${normalizedCode}\0${captures.join(",")}`, "hex").slice(0, 16);
}
