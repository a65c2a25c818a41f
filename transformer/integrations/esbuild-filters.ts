// esbuild's side of the plugin's filters: which paths come to the plugin at
// all (every other file is loaded by esbuild natively, with no round trip)
// and with which loader.
import type { BuildOptions, Loader } from "esbuild";
import { isAbsolute, resolve } from "node:path";

export const LOADERS: Record<string, Loader> = {
  ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx",
};

/** An esbuild filter matching exactly these absolute paths (`/^$/` matches nothing). */
export function exactPathsFilter(paths: readonly string[]): RegExp {
  if (paths.length === 0) return /^$/;
  const escaped = paths.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  return new RegExp(`^(?:${escaped.join("|")})$`);
}

/** The build's first entry point as an absolute path, when it names a file: where the project root is looked for. */
export function firstEntryPoint(options: BuildOptions): string | undefined {
  const entries = options.entryPoints;
  const first = Array.isArray(entries) ? entries[0] : entries ? Object.values(entries)[0] : undefined;
  const path = typeof first === "string" ? first : first?.in;
  if (!path) return undefined;
  return isAbsolute(path) ? path : resolve(options.absWorkingDir ?? process.cwd(), path);
}
