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

export function rewrite(source: string, analysis: Analysis, options: RewriteOptions = {}): RewriteResult {
  const manifest: ModuleManifest = { file: analysis.file, tasks: analysis.callSites.map(manifestEntry) };
  const mapped = options.sourceMap !== false;
  const out = new MappedOutput(source, mapped ? lineStarts(source, /\n/g) : null);
  const sites = analysis.callSites;
  /** Copies [start, end), replacing the argument of each call site directly inside it with the stub reference. */
  const copyWithReferences = (start: number, end: number, parent: number | null, extra?: { at: number; text: string }): void => {
    let at = start;
    const edits: Array<{ start: number; end: number; text: string }> = [];
    for (const site of sites) {
      if (site.parent === parent && site.argumentStart >= start && site.argumentEnd <= end) {
        // `durable.async((() => x))`: the parentheses go too, or the stub and
        // captures would become one comma expression.
        edits.push({ start: site.argumentStart, end: site.argumentEnd, text: `${stubName(site)}, ${capturesObject(site)}` });
      }
    }
    if (extra) edits.push({ start: extra.at, end: extra.at, text: extra.text });
    edits.sort((a, b) => a.start - b.start);
    for (const edit of edits) {
      out.copy(at, edit.start);
      out.insert(edit.text);
      at = edit.end;
    }
    out.copy(at, end);
  };

  if (sites.length === 0) {
    out.copy(0, source.length);
  } else {
    const at = analysis.stubInsert;
    const runtime = options.runtimeModule ?? PACKAGE_NAME;
    const prefix = at === 0 ? "" : source[at - 1] === "\n" ? "" : "\n";
    copyWithReferences(0, at, null);
    out.insert(analysis.commonJs
      ? `${prefix}const { ${TASK_HELPER_EXPORT}: ${TASK_HELPER} } = require(${JSON.stringify(runtime)});\n`
      : `${prefix}import { ${TASK_HELPER_EXPORT} as ${TASK_HELPER} } from ${JSON.stringify(runtime)};\n`);
    for (const site of sites) {
      out.insert(stubHead(site));
      const params = site.captures.length > 0 ? { at: site.paramsInsert, text: capturesObject(site) } : undefined;
      copyWithReferences(site.closureStart, site.closureEnd, site.index, params);
      out.insert(",\n});\n");
    }
    copyWithReferences(at, source.length, null);
  }
  const { code, mappings } = out.finish();
  if (!mapped) return { code, map: null, manifest };
  const map: SourceMapV3 = options.sourcesContent === false
    ? { version: 3, sources: [options.sourceFileName ?? analysis.fileName], names: [], mappings }
    : { version: 3, sources: [options.sourceFileName ?? analysis.fileName], sourcesContent: [source], names: [], mappings };
  return { code, map, manifest };
}
