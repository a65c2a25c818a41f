// CommonJS under `node --import durable-async/register`. On Node 20, module
// hooks do not see require(): Node's CommonJS loader reads and compiles those
// modules on the main thread. So, as source-map and TypeScript loaders do,
// this wraps the loader's compile step: a module that mentions the package
// is transformed there (synchronously: the parser is loaded at start), and
// TypeScript (`.cts`, or `.ts` that is required) is transpiled to CommonJS.
import Module, { createRequire } from "node:module";
import { dirname, extname, sep } from "node:path";
import { isCandidateFile, mentionsDurable } from "../scan.js";
import { SLICE_QUERY } from "../registry-source.js";
import { inlineSourceMap } from "./inline-source-map.js";
import { mappedFailure } from "./map-errors.js";
import { requireOptional } from "../optional.js";
import { isRelativeOrAbsolute, sourceCandidates, TsconfigPaths } from "./source-resolve.js";

type Compile = (this: object, content: string, fileName: string) => unknown;
interface CommonJsModule {
  filename: string;
  paths: string[];
  exports: unknown;
  _compile(content: string, fileName: string): unknown;
}
type ResolveFilename = (request: string, parent: { filename?: string | null } | null | undefined, isMain: boolean, options?: unknown) => string;
interface ModuleInternals {
  prototype: { _compile: Compile };
  _resolveFilename: ResolveFilename;
  _nodeModulePaths(dir: string): string[];
  new (id: string, parent?: unknown): CommonJsModule;
}

const TS_LOADERS: Record<string, "ts" | "tsx"> = { ".ts": "ts", ".cts": "ts", ".mts": "ts", ".tsx": "tsx" };
/** Modules compiled from a slice's code: already transformed. */
const slices = new WeakSet<object>();
let esbuild: typeof import("esbuild") | undefined;

/** TypeScript to CommonJS, with esbuild (chaining the inline map the transform put there); its errors mapped back through `rewrite`. */
function transpile(code: string, fileName: string, rewrite?: { map: string; source: string }): string {
  esbuild ??= requireOptional("esbuild", "running CommonJS TypeScript through the Node hook", () => createRequire(import.meta.url)("esbuild") as typeof import("esbuild"));
  try {
    return esbuild.transformSync(code, {
      loader: TS_LOADERS[extname(fileName)], format: "cjs", target: "node20", sourcemap: "inline", sourcefile: fileName,
    }).code;
  } catch (error) {
    throw rewrite ? mappedFailure(error, fileName, rewrite.map, rewrite.source) : error;
  }
}

/**
 * `require` finds sources as `import` does under the hook (source-resolve.ts):
 * tsconfig `paths` first for a bare request from a project file, and
 * `./jobs.cjs` that Node does not find to `./jobs.cts` (`./users.js` to
 * `./users.ts`), as register-hooks.ts resolves ES modules.
 */
function installResolver(internals: ModuleInternals, root: string): void {
  const paths = new TsconfigPaths(root);
  const resolveFilename = internals._resolveFilename;
  internals._resolveFilename = function (this: unknown, request, parent, isMain, options) {
    const parentFile = parent?.filename;
    const fromProject = typeof parentFile === "string" && !parentFile.includes(`${sep}node_modules${sep}`);
    const alias = fromProject ? paths.match(request, parentFile) : undefined;
    if (alias) {
      const file = TsconfigPaths.fileOf(alias, true);
      if (file) return resolveFilename.call(this, file, parent, isMain, options);
    }
    try {
      return resolveFilename.call(this, request, parent, isMain, options);
    } catch (error) {
      if (!fromProject || (error as { code?: string }).code !== "MODULE_NOT_FOUND") throw error;
      if (alias && alias.pattern !== "*") throw TsconfigPaths.notFound(request, alias, true);
      if (!isRelativeOrAbsolute(request)) throw error;
      for (const candidate of sourceCandidates(request, true)) {
        try {
          return resolveFilename.call(this, candidate, parent, isMain, options);
        } catch {
          // try the next candidate
        }
      }
      throw error;
    }
  };
}

/** `transform` returns the module's transformed code and map; it throws on transform errors. `root`: the project root (tsconfig lookup stops there). */
export function installCommonJsHook(transform: (fileName: string, source: string) => { code: string; map: string | null }, root: string): void {
  const internals = Module as unknown as ModuleInternals;
  installResolver(internals, root);
  const compile = internals.prototype._compile;
  internals.prototype._compile = function (content: string, fileName: string) {
    let code = content;
    let rewrite: { map: string; source: string } | undefined;
    const ours = !fileName.includes(`${sep}node_modules${sep}`);
    if (ours && !slices.has(this) && isCandidateFile(fileName) && mentionsDurable(content)) {
      const out = transform(fileName, content);
      code = out.map ? out.code + inlineSourceMap(out.map) : out.code;
      if (out.map) rewrite = { map: out.map, source: content };
    }
    if (ours && TS_LOADERS[extname(fileName)]) code = transpile(code, fileName, rewrite);
    return compile.call(this, code, fileName);
  };
}

/** Runs a CommonJS module's worker-side slice as a module of its own, resolving like the module (same file name and folder). */
export function loadCommonJsSlice(fileName: string, slice: { code: string; map: string | null }): unknown {
  const internals = Module as unknown as ModuleInternals;
  const module = new internals(`${fileName}${SLICE_QUERY}`, undefined);
  module.filename = fileName;
  module.paths = internals._nodeModulePaths(dirname(fileName));
  slices.add(module);
  module._compile(slice.map ? slice.code + inlineSourceMap(slice.map) : slice.code, fileName);
  return module.exports;
}
