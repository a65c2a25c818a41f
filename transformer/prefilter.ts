// Everything that must work without loading the TypeScript compiler: the
// text pre-filter, project scanning and the registry module source. Loading
// ts-morph costs about a second, so warm starts and files that do not mention
// the package never pay it.
import { readdirSync, readFileSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { MODULES_HELPER_EXPORT, PACKAGE_NAME, type TaskMetadata } from "../src/contract/index.js";

export { PACKAGE_NAME };

/** Extensions the transformer parses; anything else passes through untouched. */
export const SOURCE_EXTENSIONS = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

/** A file that never names the package cannot contain a call site. */
export function mentionsDurable(source: string): boolean {
  return source.includes(PACKAGE_NAME);
}

export function isCandidateFile(fileName: string): boolean {
  return SOURCE_EXTENSIONS.test(fileName) && !fileName.endsWith(".d.ts") && !fileName.includes(`${sep}node_modules${sep}`);
}

/** A path tail that path.relative() would leave as it is: no empty, "." or ".." segment, no trailing separator. */
const NOT_NORMAL = /(?:^|[\\/])\.{0,2}(?:[\\/]|$)/;
let lastRoot = { given: "", resolved: "" };

/** Forward-slash, project-relative path: the module part of a task id. */
export function projectRelative(root: string, fileName: string): string {
  if (!isAbsolute(fileName)) return fileName.split(sep).join("/");
  // Most files lie under the root: take the tail directly. path.relative()
  // resolves both paths on every call, and in a cold process that was a few
  // milliseconds of a build's 100 calls.
  if (lastRoot.given !== root) lastRoot = { given: root, resolved: resolve(root) };
  const prefix = lastRoot.resolved.endsWith(sep) ? lastRoot.resolved : lastRoot.resolved + sep;
  const tail = fileName.startsWith(prefix) ? fileName.slice(prefix.length) : "";
  const rel = tail !== "" && !NOT_NORMAL.test(tail) ? tail : relative(root, fileName);
  return rel.split(sep).join("/");
}

/**
 * Discovery feeds the registry, and the registry is bundled: a test file that
 * calls durable.async would drag vitest into a production bundle. So tests,
 * fixtures and build output are not scanned (a test's own call sites are
 * still transformed when the test file itself is loaded).
 */
export const OUTPUT_DIRS = ["node_modules", "dist", "build", "out", "coverage"];
export const DEFAULT_IGNORE_DIRS = [...OUTPUT_DIRS, "test", "tests", "__tests__", "fixtures"];
const TEST_FILE = /\.(test|spec)\.[cm]?[jt]sx?$/;

/**
 * The file's text when it mentions the package, else undefined. Node reads
 * a whole file as UTF-8 in one native call, which is cheaper than reading
 * bytes into a buffer with separate open/read/close calls; the package name
 * is ASCII, so searching the text finds exactly what a byte search would.
 */
function textIfMentionsDurable(path: string): string | undefined {
  const text = readFileSync(path, "utf8");
  return mentionsDurable(text) ? text : undefined;
}

/** What a scan skips: hidden and ignored names, and test files when "test" is ignored. */
function skipRules(ignoreDirs: readonly string[]) {
  const ignore = new Set(ignoreDirs);
  const skipTestFiles = ignore.has("test");
  return {
    name: (name: string) => name.startsWith(".") || ignore.has(name),
    testFile: (name: string) => skipTestFiles && TEST_FILE.test(name),
  };
}

/** Every project file that mentions the package, with its text, in path order (a text search; nothing is parsed). */
export function scanSources(root: string, ignoreDirs: readonly string[] = DEFAULT_IGNORE_DIRS): Map<string, string> {
  const skip = skipRules(ignoreDirs);
  const found: Array<[string, string]> = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (skip.name(entry.name)) continue;
      const path = `${dir}${sep}${entry.name}`; // dir is already normal; join() would re-normalize 500 times
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && isCandidateFile(path) && !skip.testFile(entry.name)) {
        const text = textIfMentionsDurable(path);
        if (text !== undefined) found.push([path, text]);
      }
    }
  };
  walk(root);
  return new Map(found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** Every project file that mentions the package, in path order. */
export function candidateFiles(root: string, ignoreDirs: readonly string[] = DEFAULT_IGNORE_DIRS): string[] {
  return [...scanSources(root, ignoreDirs).keys()];
}

/** The files of a wider scan that a scan with `ignoreDirs` would also find (discovery's default: no tests, no fixtures). */
export function discoverable(root: string, files: readonly string[], ignoreDirs: readonly string[] = DEFAULT_IGNORE_DIRS): string[] {
  const skip = skipRules(ignoreDirs);
  return files.filter((file) => {
    const parts = projectRelative(root, file).split("/");
    const name = parts.pop()!;
    return !parts.some(skip.name) && !skip.testFile(name);
  });
}

export interface RegistryModule {
  fileName: string;
  tasks: TaskMetadata[];
}

/** Source of a registry module: lazy loaders for every stub module (INTERNALS "Discovery"). */
export function registryModuleSource(
  modules: readonly RegistryModule[],
  specifierFor: (fileName: string) => string,
  runtimeModule = PACKAGE_NAME,
): string {
  const entries = modules
    .filter((m) => m.tasks.length > 0)
    .map((m) => `  { tasks: ${JSON.stringify(m.tasks)}, load: () => import(${JSON.stringify(specifierFor(m.fileName))}) },`);
  return `import { ${MODULES_HELPER_EXPORT} } from ${JSON.stringify(runtimeModule)};\n${MODULES_HELPER_EXPORT}([\n${entries.join("\n")}\n]);\n`;
}

/**
 * What an integration appends to a module that takes the runtime, so that
 * whichever module starts a worker brings the registry of every stub module
 * with it. Appended, not prepended: imports are hoisted anyway, and no
 * mapped line moves. (Only such modules: the runtime's own files mention the
 * package name too, and importing the registry there would be a cycle.)
 */
export function registryImport(result: { importsRuntime: boolean; commonJs: boolean }, specifier: string): string {
  if (!result.importsRuntime) return "";
  return result.commonJs ? `\nrequire(${JSON.stringify(specifier)});\n` : `\nimport ${JSON.stringify(specifier)};\n`;
}

export function inlineSourceMap(map: string): string {
  return `\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(map).toString("base64")}\n`;
}

/** An esbuild filter matching exactly these absolute paths (`/^$/` matches nothing). */
export function exactPathsFilter(paths: readonly string[]): RegExp {
  if (paths.length === 0) return /^$/;
  const escaped = paths.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  return new RegExp(`^(?:${escaped.join("|")})$`);
}
