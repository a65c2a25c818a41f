// The source map of a rewrite, written while the output is assembled: one
// segment at the start of each original token that is copied, none for
// generated text. Hand-written rather than a general library because it runs
// cold in every build, where a general mapping builder costs several times
// more for the same mappings (bench/transform/RESULTS.md, "Source maps"); a
// round-trip test decodes every segment with @jridgewell/trace-mapping.
import { lineAt } from "./lines.js";

/** A source map, version 3. */
export interface SourceMapV3 {
  version: 3;
  sources: string[];
  sourcesContent?: string[];
  names: string[];
  mappings: string;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** One-character codes for the small deltas that make up most segments. */
const SMALL = Array.from({ length: 31 }, (_, i) => BASE64[(i - 15 < 0 ? ((15 - i) << 1) | 1 : (i - 15) << 1)]!);

function vlq(value: number): string {
  if (value >= -15 && value <= 15) return SMALL[value + 15]!;
  let v = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = "";
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += BASE64[digit];
  } while (v > 0);
  return out;
}

/**
 * Tokens start a segment each: a run of word characters (ASCII letters,
 * digits, `_`, `$`, any code unit above 127), or any other character except
 * space, tab, CR and LF (a line feed ends the line). Sticky regexes step over
 * word runs and blanks without allocating a match per token, as exec() did.
 */
const WORD_RUN = /[0-9A-Za-z_$\u0080-\uffff]+/y;
const BLANK_RUN = /[ \t\r]+/y;

/** Code unit of a word character, as WORD_RUN has it. */
function isWordUnit(c: number): boolean {
  return c >= 0x80 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36;
}

/**
 * Segments for a token `d` columns after the previous one on the same line
 * of both texts (text copied verbatim): most segments of a file.
 */
const SAME_LINE_STEP = Array.from({ length: 128 }, (_, d) => `${vlq(d)}AA${vlq(d)}`);

/**
 * Builds the output text and its mappings together, one segment at the start
 * of each original token; without line starts, only the text.
 */
export class MappedOutput {
  private readonly parts: string[] = [];
  private mappings = "";
  /** The current generated line has a segment (the next one is preceded by a comma). */
  private lineHasSegment = false;
  private column = 0;
  private previousColumn = 0;
  private previousLine = 0;
  private previousOriginalColumn = 0;

  constructor(private readonly source: string, private readonly lineStarts: readonly number[] | null) {}

  /** Generated text with no counterpart in the original (stub heads, references). */
  insert(text: string): void {
    if (text.length === 0) return;
    this.parts.push(text);
    if (this.lineStarts === null) return;
    let newline = text.indexOf("\n");
    let last = -1;
    while (newline !== -1) {
      this.endLine();
      last = newline;
      newline = text.indexOf("\n", newline + 1);
    }
    this.column += text.length - last - 1;
  }

  /**
   * Original text [start, end), mapped token by token: one segment at each
   * word start and at each other non-blank character (magic-string's
   * "boundary" resolution). Regexes skip word runs and blanks: a loop over
   * every character ran in V8's interpreter for most of a cold build.
   */
  copy(start: number, end: number): void {
    if (end <= start) return;
    const { source, lineStarts } = this;
    this.parts.push(source.slice(start, end));
    if (lineStarts === null) return;
    let line = lineAt(lineStarts, start);
    let lineStart = lineStarts[line]!;
    // Generated column of offset i on the current line is `base + i`.
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
        this.endLine();
        line++;
        lineStart = ++i;
        base = -lineStart;
        continue;
      }
      const column = base + i;
      const originalColumn = i - lineStart;
      const step = column - this.previousColumn;
      if (this.lineHasSegment && line === this.previousLine && step === originalColumn - this.previousOriginalColumn && step < SAME_LINE_STEP.length) {
        this.mappings += "," + SAME_LINE_STEP[step];
        this.previousColumn = column;
        this.previousOriginalColumn = originalColumn;
      } else {
        this.segment(column, line, originalColumn);
      }
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

  private segment(column: number, line: number, originalColumn: number): void {
    if (this.lineHasSegment) this.mappings += ",";
    this.mappings += vlq(column - this.previousColumn) + "A" + vlq(line - this.previousLine) + vlq(originalColumn - this.previousOriginalColumn);
    this.lineHasSegment = true;
    this.previousColumn = column;
    this.previousLine = line;
    this.previousOriginalColumn = originalColumn;
  }

  private endLine(): void {
    this.mappings += ";";
    this.lineHasSegment = false;
    this.column = 0;
    this.previousColumn = 0;
  }

  finish(): { code: string; mappings: string } {
    return { code: this.parts.join(""), mappings: this.mappings };
  }
}

/** Base64 digit values, made on the first decode (builds never decode). */
let base64Values: Map<string, number> | undefined;

/**
 * The original position of a generated one (line 1-based, column 0-based, as
 * esbuild reports them): the last segment at or before it, searching back to
 * earlier lines when generated text (a stub's head) starts the line. Used to
 * point a parser error in the rewritten code back at the user's file.
 */
export function originalPosition(mappings: string, line: number, column: number): { line: number; column: number } | undefined {
  let found: { line: number; column: number } | undefined;
  let originalLine = 0;
  let originalColumn = 0;
  const lines = mappings.split(";");
  for (let l = 0; l < lines.length && l < line; l++) {
    let generatedColumn = 0;
    for (const segment of lines[l]!.split(",")) {
      if (segment === "") continue;
      const [dColumn, , dLine, dOriginalColumn] = decodeSegment(segment);
      generatedColumn += dColumn!;
      if (dLine === undefined) continue;
      originalLine += dLine;
      originalColumn += dOriginalColumn!;
      if (l === line - 1 && generatedColumn > column) return found;
      found = { line: originalLine + 1, column: originalColumn };
    }
  }
  return found;
}

function decodeSegment(segment: string): number[] {
  base64Values ??= new Map([...BASE64].map((c, i) => [c, i]));
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = base64Values.get(char)!;
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    values.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return values;
}
