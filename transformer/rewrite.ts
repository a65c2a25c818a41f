// rewrite(source, analysis) → code + source map + manifest. Edits go through
// magic-string on the original text: the closure text is *moved* into its stub
// (not re-printed), so every token of user code keeps an exact mapping and a
// worker's stack trace points at the user's original line.
import MagicString from "magic-string";
import type { Analysis, CallSite } from "./analyze.js";
import { PACKAGE_NAME } from "./prefilter.js";

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

export interface RewriteResult {
  code: string;
  /** Source map v3 object (`sources` holds the original file name). */
  map: ReturnType<MagicString["generateMap"]>;
  manifest: ModuleManifest;
}

export interface RewriteOptions {
  /** Module the helper is imported from (default `durable-async`). */
  runtimeModule?: string;
  /** Value of the map's `sources[0]`; default the analysis' absolute file name. */
  sourceFileName?: string;
}

const TASK_HELPER = "__durable_task";

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

export function rewrite(source: string, analysis: Analysis, options: RewriteOptions = {}): RewriteResult {
  const s = new MagicString(source);
  const manifest: ModuleManifest = { file: analysis.file, tasks: analysis.callSites.map(manifestEntry) };
  if (analysis.callSites.length > 0) {
    const at = analysis.stubInsert;
    const runtime = options.runtimeModule ?? PACKAGE_NAME;
    const prefix = at === 0 ? "" : source[at - 1] === "\n" ? "" : "\n";
    s.appendLeft(at, `${prefix}import { __durableTask as ${TASK_HELPER} } from ${JSON.stringify(runtime)};\n`);
    // Outer call sites first: a nested closure is moved out of its parent's
    // closure before the parent moves, leaving the stub reference behind.
    for (const site of analysis.callSites) {
      // `durable.async((() => x))`: the parentheses would turn the stub and
      // captures into one comma expression. Removed before any insertion,
      // since remove() drops text already attached to the range.
      if (site.argumentStart < site.closureStart) s.remove(site.argumentStart, site.closureStart);
      if (site.closureEnd < site.argumentEnd) s.remove(site.closureEnd, site.argumentEnd);
      s.prependRight(site.closureStart, stubHead(site));
      s.appendLeft(site.closureEnd, ",\n});\n");
      if (site.captures.length > 0) s.appendLeft(site.paramsInsert, capturesObject(site));
      s.move(site.closureStart, site.closureEnd, at);
      s.appendLeft(site.closureStart, `${stubName(site)}, ${capturesObject(site)}`);
    }
  }
  // Word-boundary resolution: a stack frame's column lands on the token it
  // names, with fewer segments than a mapping per character.
  const map = s.generateMap({ hires: "boundary", source: options.sourceFileName ?? analysis.fileName, includeContent: true });
  return { code: s.toString(), map, manifest };
}
