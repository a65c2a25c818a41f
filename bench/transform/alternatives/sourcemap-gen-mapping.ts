// The rewrite's source-map writer built on @jridgewell/gen-mapping, for the
// transform bench's A/B against transformer/sourcemap.ts (run.mjs bundles a
// second plugin with this module in its place). Same tokens, same segments:
// only the encoding differs.
import { addSegment, GenMapping, toEncodedMap } from "@jridgewell/gen-mapping";
import { lineAt } from "../../../transformer/lines.js";

export type { SourceMapV3 } from "../../../transformer/sourcemap.js";
export { originalPosition } from "../../../transformer/sourcemap.js";

const WORD_RUN = /[0-9A-Za-z_$\u0080-\uffff]+/y;
const BLANK_RUN = /[ \t\r]+/y;

function isWordUnit(c: number): boolean {
  return c >= 0x80 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36;
}

export class MappedOutput {
  private readonly parts: string[] = [];
  private readonly map = new GenMapping();
  private line = 0;
  private column = 0;

  constructor(private readonly source: string, private readonly lineStarts: readonly number[] | null) {}

  insert(text: string): void {
    if (text.length === 0) return;
    this.parts.push(text);
    if (this.lineStarts === null) return;
    let newline = text.indexOf("\n");
    let last = -1;
    while (newline !== -1) {
      this.line++;
      this.column = 0;
      last = newline;
      newline = text.indexOf("\n", newline + 1);
    }
    this.column += text.length - last - 1;
  }

  copy(start: number, end: number): void {
    if (end <= start) return;
    const { source, lineStarts } = this;
    this.parts.push(source.slice(start, end));
    if (lineStarts === null) return;
    let line = lineAt(lineStarts, start);
    let lineStart = lineStarts[line]!;
    let base = this.column - start;
    let i = start;
    while (i < end) {
      const c = source.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) {
        BLANK_RUN.lastIndex = i;
        BLANK_RUN.test(source);
        i = BLANK_RUN.lastIndex;
        continue;
      }
      if (c === 10) {
        this.line++;
        line++;
        lineStart = ++i;
        base = -lineStart;
        continue;
      }
      addSegment(this.map, this.line, base + i, "s", line, i - lineStart);
      if (isWordUnit(c)) {
        WORD_RUN.lastIndex = i;
        WORD_RUN.test(source);
        i = WORD_RUN.lastIndex;
      } else {
        i++;
      }
    }
    this.column = base + end;
  }

  finish(): { code: string; mappings: string } {
    return { code: this.parts.join(""), mappings: toEncodedMap(this.map).mappings as string };
  }
}
