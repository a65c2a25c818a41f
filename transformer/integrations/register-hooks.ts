// Module hooks for `node --import durable-async/register`. They run on Node's
// loader thread. Node 20 cannot strip types, so every TypeScript file is
// transpiled with esbuild here; files that mention durable-async are first
// transformed, and esbuild chains our source map into the inline map it emits.
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Loader } from "esbuild";
import { DurableTransformError, formatDiagnostic } from "../diagnostics.js";
import { inlineSourceMap, mentionsDurable } from "../prefilter.js";
import { TransformSession } from "../session.js";
import { loadOptional } from "../optional.js";

let esbuild: Promise<typeof import("esbuild")> | undefined;
/** esbuild strips the TypeScript; loaded on the first TypeScript file, and named if it is missing. */
function loadEsbuild(): Promise<typeof import("esbuild")> {
  esbuild ??= loadOptional("esbuild", "running TypeScript through the Node hook (durable-async/register)", () => import("esbuild"));
  return esbuild;
}

interface HookData {
  root: string;
}

type Resolve = (specifier: string, context: { parentURL?: string; conditions?: string[] }) => Promise<{ url: string; format?: string | null }>;
type Load = (url: string, context: { format?: string | null }) => Promise<{ format: string; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean }>;

const TS_LOADERS: Record<string, Loader> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx" };
const JS_EXTENSIONS = new Set([".js", ".mjs", ".jsx", ".cjs"]);

let session = new TransformSession({ root: process.cwd(), cache: true });

export async function initialize(data: HookData | undefined): Promise<void> {
  session = new TransformSession({ root: data?.root ?? process.cwd(), cache: true });
}

/** NodeNext style `./users.js` names the compiled file; in source it is `./users.ts`. */
const CANDIDATES: Record<string, string[]> = { ".js": [".ts", ".tsx"], ".mjs": [".mts"], ".cjs": [".cts"], ".jsx": [".tsx"], "": [".ts", ".tsx", "/index.ts"] };

export async function resolve(specifier: string, context: Parameters<Resolve>[1], next: Resolve) {
  try {
    return await next(specifier, context);
  } catch (error) {
    const isPath = specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("file:");
    if (!isPath || (error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    const ext = extname(specifier);
    const base = ext && CANDIDATES[ext] ? specifier.slice(0, -ext.length) : specifier;
    for (const candidate of CANDIDATES[CANDIDATES[ext] ? ext : ""]!) {
      try {
        return await next(base + candidate, context);
      } catch {
        // try the next candidate
      }
    }
    throw error;
  }
}

async function transformDurable(fileName: string, source: string): Promise<{ code: string; map: string | null }> {
  if (!mentionsDurable(source)) return { code: source, map: null };
  // Answered from .durable/cache when the text is unchanged; the parser is loaded only on a miss.
  const result = await session.transform(fileName, source);
  if (result.diagnostics.some((d) => d.severity === "error")) throw new DurableTransformError(result.diagnostics);
  for (const d of result.diagnostics) process.stderr.write(`durable-async: ${formatDiagnostic(d)}\n`);
  return result;
}

export async function load(url: string, context: Parameters<Load>[1], next: Load) {
  if (!url.startsWith("file:") || url.includes("/node_modules/")) return next(url, context);
  const fileName = fileURLToPath(url);
  const ext = extname(fileName);
  const loader = TS_LOADERS[ext];
  if (loader) {
    const source = await readFile(fileName, "utf8");
    const { code, map } = await transformDurable(fileName, source);
    const input = map ? code + inlineSourceMap(map) : code;
    const format = ext === ".cts" ? "commonjs" : "module";
    const out = await (await loadEsbuild()).transform(input, {
      loader, format: format === "module" ? "esm" : "cjs", target: "node20", sourcemap: "inline", sourcefile: fileName,
    });
    return { format, source: out.code, shortCircuit: true };
  }
  if (JS_EXTENSIONS.has(ext)) {
    const loaded = await next(url, context);
    if (loaded.source == null || loaded.format === "commonjs") return loaded;
    const source = typeof loaded.source === "string" ? loaded.source : Buffer.from(loaded.source as Uint8Array).toString("utf8");
    if (!mentionsDurable(source)) return loaded;
    const { code, map } = await transformDurable(fileName, source);
    return { ...loaded, source: map ? code + inlineSourceMap(map) : code };
  }
  return next(url, context);
}
