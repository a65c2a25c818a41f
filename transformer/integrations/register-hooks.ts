// Module hooks for `node --import durable-async/register`. They run on Node's
// loader thread. Node 20 cannot strip types, so every TypeScript ES module is
// transpiled with esbuild here; files that mention durable-async are first
// transformed, and esbuild chains our source map into the inline map it emits.
// A URL ending in `?durable-slice` loads the worker-side slice of a module.
// CommonJS modules are left to Node's CommonJS loader, where register-cjs.ts
// transforms them on the main thread.
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Loader } from "esbuild";
import { DurableTransformError, formatDiagnostic } from "../diagnostics.js";
import { isSliceId } from "../registry-source.js";
import { mentionsDurable } from "../scan.js";
import { TransformSession, type FileResult } from "../session.js";
import { inlineSourceMap } from "./inline-source-map.js";
import { mappedFailure } from "./map-errors.js";
import { loadOptional } from "../optional.js";
import { isRelativeOrAbsolute, sourceCandidates, TsconfigPaths } from "./source-resolve.js";

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

let session: TransformSession | undefined;
let paths = new TsconfigPaths(process.cwd());

/** The main thread found the project root; the disk cache it filled is read through the same session setup. */
export async function initialize(data: HookData | undefined): Promise<void> {
  session = new TransformSession({ searchFrom: data?.root ?? process.cwd(), cache: true });
  paths = new TsconfigPaths(data?.root ?? process.cwd());
}

/**
 * Node's resolution, then the project's sources: a bare specifier matching
 * the tsconfig `paths` of a project file goes to its first target that
 * exists, and `./users.js` that Node does not find to `./users.ts` (rules in
 * source-resolve.ts).
 */
export async function resolve(specifier: string, context: Parameters<Resolve>[1], next: Resolve) {
  const parentURL = context.parentURL;
  const parentFile = parentURL?.startsWith("file:") && !parentURL.startsWith(OWN_FOLDER) ? fileURLToPath(parentURL) : undefined;
  const alias = parentFile ? paths.match(specifier, parentFile) : undefined;
  if (alias) {
    const file = TsconfigPaths.fileOf(alias);
    if (file) return next(pathToFileURL(file).href, context);
  }
  try {
    return await next(specifier, context);
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    if (alias && alias.pattern !== "*") throw TsconfigPaths.notFound(specifier, alias);
    if (!isRelativeOrAbsolute(specifier)) throw error;
    for (const candidate of sourceCandidates(specifier)) {
      try {
        return await next(candidate, context);
      } catch {
        // try the next candidate
      }
    }
    throw error;
  }
}

/**
 * A file's result. It is read from the disk cache the main thread filled at
 * start; on a miss, the parser and rewriter are loaded (not the type checker:
 * the hook checks no types).
 */
function resultOf(fileName: string, source: string): Promise<FileResult> {
  session ??= new TransformSession({ cache: true });
  return session.transform(fileName, source);
}

/** The module's transformed code, or its worker-side slice, with its map (null when the code is the source). */
async function transformDurable(fileName: string, source: string, slice: boolean): Promise<{ code: string; map: string | null }> {
  if (!mentionsDurable(source)) return { code: source, map: null };
  const result = await resultOf(fileName, source);
  if (result.diagnostics.some((d) => d.severity === "error")) throw new DurableTransformError(result.diagnostics);
  if (!slice) for (const d of [...result.diagnostics, ...session!.notDiscovered(result)]) process.stderr.write(`durable-async: ${formatDiagnostic(d)}\n`);
  // A module that is its own slice is never asked for one; if it is, the module's code is the slice.
  return slice && result.slice ? result.slice : result;
}

const withMap = (out: { code: string; map: string | null }): string => (out.map ? out.code + inlineSourceMap(out.map) : out.code);

async function loadTypeScript(url: string, fileName: string, loader: Loader, context: Parameters<Load>[1], next: Load) {
  const source = await readFile(fileName, "utf8");
  // A TypeScript file written as CommonJS (`require("durable-async")`, no import or export) runs as CommonJS, as durable check reads it.
  if (mentionsDurable(source) && !isSliceId(url) && (await resultOf(fileName, source)).commonJs) return next(url, { ...context, format: "commonjs" });
  const input = await transformDurable(fileName, source, isSliceId(url));
  const esbuild = await loadEsbuild();
  // esbuild's errors point into the rewrite: map them back to the user's lines.
  const out = await esbuild.transform(withMap(input), { loader, format: "esm", target: "node20", sourcemap: "inline", sourcefile: fileName })
    .catch((error: unknown) => { throw input.map ? mappedFailure(error, fileName, input.map, source) : error; });
  return { format: "module", source: out.code, shortCircuit: true };
}

/**
 * This bundle's folder: its chunks (and the main thread's) load through these
 * hooks too. They are never user code, and transforming one that names the
 * package would wait for the parser chunk, itself loading through here.
 */
const OWN_FOLDER = new URL("./", import.meta.url).href;

export async function load(url: string, context: Parameters<Load>[1], next: Load) {
  if (!url.startsWith("file:") || url.includes("/node_modules/") || url.startsWith(OWN_FOLDER)) return next(url, context);
  const fileName = fileURLToPath(url);
  const ext = extname(fileName);
  // CommonJS TypeScript goes to Node's CommonJS loader, which register-cjs.ts transpiles.
  if (ext === ".cts") return next(url, { ...context, format: "commonjs" });
  const loader = TS_LOADERS[ext];
  if (loader) return loadTypeScript(url, fileName, loader, context, next);
  if (!JS_EXTENSIONS.has(ext)) return next(url, context);
  const loaded = await next(url, context);
  if (loaded.source == null || loaded.format === "commonjs") return loaded;
  const source = typeof loaded.source === "string" ? loaded.source : Buffer.from(loaded.source as Uint8Array).toString("utf8");
  if (!mentionsDurable(source)) return loaded;
  return { ...loaded, source: withMap(await transformDurable(fileName, source, isSliceId(url))) };
}
