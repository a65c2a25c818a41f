// rewrite(source, analysis) → code + source map + manifest. The output is
// assembled from slices of the original text: each closure is *moved* into
// its stub (not re-printed), so every token of user code keeps an exact
// mapping and a worker's stack trace points at the user's original line and
// column (sourcemap.ts writes the mappings as the slices are copied).
import { PACKAGE_NAME, TASK_HELPER_EXPORT, type TaskMetadata } from "../src/contract/index.js";
import type { Analysis, CallSite } from "./analyze.js";
import { lineStarts } from "./lines.js";
import { MappedOutput, type SourceMapV3 } from "./sourcemap.js";

export interface ModuleManifest {
  /** Project-relative module path. */
  file: string;
  tasks: TaskMetadata[];
}

export type { SourceMapV3 };

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

export function stubName(site: CallSite): string {
  return `__durable_stub_${site.index}`;
}

export function manifestEntry(site: CallSite): TaskMetadata {
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

/**
 * Copies original text into a MappedOutput with each call site's closure
 * replaced by its stub reference, and writes the stub declarations: the
 * module's rewrite and its worker-side slice (slice-output.ts) are both made
 * of these.
 */
export class StubWriter {
  constructor(readonly out: MappedOutput, private readonly sites: readonly CallSite[]) {}

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

export function newOutput(source: string, options: RewriteOptions): MappedOutput {
  return new MappedOutput(source, options.sourceMap !== false ? lineStarts(source, /\n/g) : null);
}

/** The finished text and its source map (`sources` holds the original file). */
export function finishOutput(out: MappedOutput, source: string, analysis: Analysis, options: RewriteOptions): { code: string; map: SourceMapV3 | null } {
  const { code, mappings } = out.finish();
  if (options.sourceMap === false) return { code, map: null };
  const sources = [options.sourceFileName ?? analysis.fileName];
  const map: SourceMapV3 = options.sourcesContent === false
    ? { version: 3, sources, names: [], mappings }
    : { version: 3, sources, sourcesContent: [source], names: [], mappings };
  return { code, map };
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
