// rewrite(source, analysis) → code + source map + manifest. The output is
// assembled from slices of the original text: each closure is *moved* into
// its stub (not re-printed), so every token of user code keeps an exact
// mapping and a worker's stack trace points at the user's original line and
// column. The source map is written here, one segment per token: a general
// string-editing library cost more than the analysis itself.
import type { Analysis, CallSite } from "./analyze.js";
import { lineAt, lineStarts } from "./lines.js";
import { PACKAGE_NAME } from "./scan.js";

/** A stub's metadata as the runtime's `__durableModules` wants it (no `run`). */
export interface TaskManifestEntry {
  id: string;
  hash: string;
  caller: CallSite["caller"];
  source: string;
  captures: string[];
  kind: CallSite["kind"];
}

export interface ModuleManifest {
  /** Project-relative module path. */
  file: string;
  tasks: TaskManifestEntry[];
}

/** A source map, version 3. */
export interface SourceMapV3 {
  version: 3;
  sources: string[];
  sourcesContent?: string[];
  names: string[];
  mappings: string;
}

export interface RewriteResult {
  code: string;
  /** Source map v3 object (`sources` holds the original file name); null with `sourceMap: false`. */
  map: SourceMapV3 | null;
  manifest: ModuleManifest;
}

export interface RewriteOptions {
  /** Module the helper is imported from (default `durable-async`). */
  runtimeModule?: string;
  /** Value of the map's `sources[0]`; default the analysis' absolute file name. */
  sourceFileName?: string;
  /** Build a source map (default true). A bundle written without maps needs none, and the mappings are most of the rewrite's work. */
  sourceMap?: boolean;
  /** Embed the original text in the map (default true); esbuild's `sourcesContent: false` drops it anyway. */
  sourcesContent?: boolean;
}

const TASK_HELPER = "__durable_task";
/** The runtime's exports that register a stub: from the module itself, and from its worker-side slice (whose stubs yield to the module's). */
export const TASK_HELPER_EXPORT = "__durableTask";
export const SLICE_TASK_HELPER_EXPORT = "__durableSliceTask";

export function stubName(site: CallSite): string {
  return `__durable_stub_${site.index}`;
}

export function manifestEntry(site: CallSite): TaskManifestEntry {
  return { id: site.id, hash: site.hash, caller: site.caller, source: site.source, captures: site.captures, kind: site.kind };
}

function capturesObject(site: CallSite): string {
  return site.captures.length === 0 ? "{}" : `{ ${site.captures.join(", ")} }`;
}

/** The stub declaration's head; the moved closure and `\n});` follow it. */
function stubHead(site: CallSite): string {
  const meta = manifestEntry(site);
  return `const ${stubName(site)} = ${TASK_HELPER}({\n` +
    `  id: ${JSON.stringify(meta.id)},\n` +
    `  hash: ${JSON.stringify(meta.hash)},\n` +
    `  caller: ${JSON.stringify(meta.caller)},\n` +
    `  source: ${JSON.stringify(meta.source)},\n` +
    `  captures: ${JSON.stringify(meta.captures)},\n` +
    `  kind: ${JSON.stringify(meta.kind)},\n` +
    `  run: `;
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
export class Output {
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

/**
 * Copies original text into an Output with each call site's closure replaced
 * by its stub reference, and writes the stub declarations: the module's
 * rewrite and its worker-side slice (slice-output.ts) are both made of these.
 */
export class StubWriter {
  constructor(readonly out: Output, private readonly sites: readonly CallSite[]) {}

  /** Copies [start, end), replacing the argument of each call site directly inside it (whose parent is `parent`) with the stub reference. */
  copy(start: number, end: number, parent: number | null = null, extra?: { at: number; text: string }): void {
    let at = start;
    const edits: Array<{ start: number; end: number; text: string }> = [];
    for (const site of this.sites) {
      if (site.parent === parent && site.argumentStart >= start && site.argumentEnd <= end) {
        // `durable.async((() => x))`: the parentheses go too, or the stub and
        // captures would become one comma expression.
        edits.push({ start: site.argumentStart, end: site.argumentEnd, text: `${stubName(site)}, ${capturesObject(site)}` });
      }
    }
    if (extra) edits.push({ start: extra.at, end: extra.at, text: extra.text });
    edits.sort((a, b) => a.start - b.start);
    for (const edit of edits) {
      this.out.copy(at, edit.start);
      this.out.insert(edit.text);
      at = edit.end;
    }
    this.out.copy(at, end);
  }

  /** The helper's import (`helper`: the runtime export that registers a stub) and every stub declaration. */
  stubs(analysis: Analysis, helper: string, runtimeModule = PACKAGE_NAME, prefix = ""): void {
    const runtime = JSON.stringify(runtimeModule);
    this.out.insert(analysis.commonJs
      ? `${prefix}const { ${helper}: ${TASK_HELPER} } = require(${runtime});\n`
      : `${prefix}import { ${helper} as ${TASK_HELPER} } from ${runtime};\n`);
    for (const site of this.sites) {
      this.out.insert(stubHead(site));
      const params = site.captures.length > 0 ? { at: site.paramsInsert, text: capturesObject(site) } : undefined;
      this.copy(site.closureStart, site.closureEnd, site.index, params);
      this.out.insert(",\n});\n");
    }
  }
}

/** The finished text and its source map (`sources` holds the original file). */
export function finishOutput(out: Output, source: string, analysis: Analysis, options: RewriteOptions): { code: string; map: SourceMapV3 | null } {
  const { code, mappings } = out.finish();
  if (options.sourceMap === false) return { code, map: null };
  const sources = [options.sourceFileName ?? analysis.fileName];
  const map: SourceMapV3 = options.sourcesContent === false
    ? { version: 3, sources, names: [], mappings }
    : { version: 3, sources, sourcesContent: [source], names: [], mappings };
  return { code, map };
}

export function newOutput(source: string, options: RewriteOptions): Output {
  return new Output(source, options.sourceMap !== false ? lineStarts(source, /\n/g) : null);
}

export function rewrite(source: string, analysis: Analysis, options: RewriteOptions = {}): RewriteResult {
  const manifest: ModuleManifest = { file: analysis.file, tasks: analysis.callSites.map(manifestEntry) };
  const out = newOutput(source, options);
  if (analysis.callSites.length === 0) {
    out.copy(0, source.length);
  } else {
    const writer = new StubWriter(out, analysis.callSites);
    const at = analysis.stubInsert;
    writer.copy(0, at);
    writer.stubs(analysis, TASK_HELPER_EXPORT, options.runtimeModule, at === 0 || source[at - 1] === "\n" ? "" : "\n");
    writer.copy(at, source.length);
  }
  return { ...finishOutput(out, source, analysis, options), manifest };
}
