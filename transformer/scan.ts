// Finding the files that can hold call sites, before any parser is loaded:
// the text pre-filter and the project scan. Loading the parser costs tens of
// milliseconds (ts-morph about a second), so warm starts and files that never
// mention the package do not pay for it.
import { readdirSync, readFileSync } from "node:fs";
import { sep } from "node:path";
import { PACKAGE_NAME } from "../src/contract/index.js";
import { projectRelative } from "./module-path.js";

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
