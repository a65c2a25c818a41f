// Finding the files that can hold call sites, before any parser is loaded:
// the text pre-filter and the project scan. Loading the parser costs tens of
// milliseconds (ts-morph about a second), so warm starts and files that never
// mention the package do not pay for it.
//
// The scan is also the one rule for discovery: the Node hook, the esbuild and
// Vite plugins, `durable check` and `durable build` all ask `Discovery`, so a
// module one integration compiles and lists for workers is compiled and
// listed by all of them (a module compiled but not listed runs its jobs only
// in processes that import it: its jobs wait elsewhere, then are discarded).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { PACKAGE_NAME } from "../src/contract/index.js";
import { readJsonc } from "./tsconfig.js";

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
 * The transformer's own output: a rewrite, a slice, a registry or a bundle
 * made of them. Their helpers (`__durableTask`, `__durableSliceTask`,
 * `__durableModules`) and stub names are internal: no source a user writes
 * names them. Transforming such a file again would read every rewritten call
 * (`durable.async(__durable_stub_0, …)`) as DA1010, and list a bundle's tasks
 * under the bundle's path, so it is left alone wherever it is (a build's
 * `outdir: "lib"` as much as `dist/`).
 */
const TRANSFORMED_OUTPUT = /\b__durable(?:Task|SliceTask|Modules)\b|\b__durable_stub_\d/;

export function isTransformedOutput(source: string): boolean {
  return TRANSFORMED_OUTPUT.test(source);
}

/** Build output folders, skipped directly inside a package root (not deeper: `src/build/` is source). */
export const OUTPUT_DIRS = ["dist", "build", "out", "coverage"];
/**
 * Test folders, skipped directly inside a package root. Discovery feeds the
 * registry, and the registry is bundled: a test module that calls
 * durable.async would drag vitest into a production bundle. A test's own call
 * sites are still transformed when the test loads the module, and run in that
 * process.
 */
export const TEST_DIRS = ["test", "tests", "__tests__", "fixtures"];
/** The folders discovery skips directly inside a package root, unless `ignoreDirs` names others. */
export const DEFAULT_IGNORE_DIRS = [...OUTPUT_DIRS, ...TEST_DIRS];
const TEST_FILE = /\.(test|spec)\.[cm]?[jt]sx?$/;

/** `users.test.ts`, `users.spec.mjs`: a test by its name. */
export function isTestFileName(fileName: string): boolean {
  return TEST_FILE.test(fileName);
}

export interface DiscoveryOptions {
  /**
   * Folder names discovery skips. Default: `DEFAULT_IGNORE_DIRS`, directly
   * inside a package root (a folder with a package.json, or the project root)
   * only, plus each package's tsconfig `outDir`. Given by the user, the names
   * are skipped at any depth, as configured.
   */
  ignoreDirs?: readonly string[];
}

/** Why discovery skips a file: the folder (or file) and the rule, for a message that names both. */
export interface Skipped {
  /** Project-relative path of the skipped folder or file. */
  path: string;
  rule: string;
}

/** Reads `compilerOptions.outDir` of a tsconfig (comments, trailing commas and relative `extends` allowed), absolute. */
function tsconfigOutDir(file: string, depth = 0): string | undefined {
  const config = readJsonc(file) as { extends?: unknown; compilerOptions?: { outDir?: unknown } } | undefined;
  if (!config) return undefined; // not ours to report: tsc does
  const outDir = config.compilerOptions?.outDir;
  if (typeof outDir === "string") return resolve(dirname(file), outDir);
  const base = config.extends;
  if (typeof base === "string" && base.startsWith(".") && depth < 5) {
    return tsconfigOutDir(resolve(dirname(file), base.endsWith(".json") ? base : `${base}.json`), depth + 1);
  }
  return undefined;
}

/**
 * Which files of a project discovery lists. `node_modules` and hidden folders
 * are skipped everywhere; output and test folders only directly inside a
 * package root (`dist/`, `test/`; `src/build/pipeline.ts` is source); test
 * files (`*.test.*`, `*.spec.*`) everywhere; transformed output by content.
 */
export class Discovery {
  private readonly configured: ReadonlySet<string> | undefined;
  private readonly rootLevel: ReadonlySet<string>;
  private readonly skipTestFiles: boolean;
  private readonly packageRoots = new Map<string, boolean>();
  private readonly outDirs = new Map<string, string | undefined>();

  constructor(readonly root: string, options: DiscoveryOptions = {}) {
    this.root = resolve(root);
    this.configured = options.ignoreDirs ? new Set(options.ignoreDirs) : undefined;
    this.rootLevel = this.configured ?? new Set(DEFAULT_IGNORE_DIRS);
    this.skipTestFiles = this.rootLevel.has("test");
  }

  private isPackageRoot(dir: string, names?: ReadonlySet<string>): boolean {
    let known = this.packageRoots.get(dir);
    if (known === undefined) {
      known = dir === this.root || (names ? names.has("package.json") : existsSync(join(dir, "package.json")));
      this.packageRoots.set(dir, known);
    }
    return known;
  }

  private outDirOf(packageRoot: string, names?: ReadonlySet<string>): string | undefined {
    if (!this.outDirs.has(packageRoot)) {
      const tsconfig = join(packageRoot, "tsconfig.json");
      const outDir = (names ? names.has("tsconfig.json") : existsSync(tsconfig)) ? tsconfigOutDir(tsconfig) : undefined;
      // An outDir that is the package itself (or above it) would hide the sources.
      this.outDirs.set(packageRoot, outDir && outDir.startsWith(packageRoot + sep) ? outDir : undefined);
    }
    return this.outDirs.get(packageRoot);
  }

  private rel(path: string): string {
    return relative(this.root, path).split(sep).join("/");
  }

  /** Why the folder `name` inside `parent` is skipped (`names`: the entries of `parent`, when the caller read them). */
  skipsDir(parent: string, name: string, names?: ReadonlySet<string>): Skipped | undefined {
    const path = join(parent, name);
    if (name === "node_modules") return { path: this.rel(path), rule: "dependencies (node_modules) are never scanned" };
    if (name.startsWith(".")) return { path: this.rel(path), rule: "hidden folders are never scanned" };
    if (this.configured) {
      return this.configured.has(name) ? { path: this.rel(path), rule: "a folder the `ignoreDirs` option names" } : undefined;
    }
    if (!this.isPackageRoot(parent, names)) return undefined;
    if (this.rootLevel.has(name)) {
      const kind = OUTPUT_DIRS.includes(name) ? "build output" : "test";
      return { path: this.rel(path), rule: `${kind} folders directly inside a package root (${DEFAULT_IGNORE_DIRS.join(", ")}) are not scanned` };
    }
    if (this.outDirOf(parent, names) === path) return { path: this.rel(path), rule: "the tsconfig.json `outDir` of its package is not scanned" };
    return undefined;
  }

  /** Why the file `name` is skipped by its name (a test file). */
  skipsFileName(dir: string, name: string): Skipped | undefined {
    if (this.skipTestFiles && TEST_FILE.test(name)) return { path: this.rel(join(dir, name)), rule: "test files (*.test.*, *.spec.*) are not scanned" };
    return undefined;
  }

  /** Why discovery skips `fileName` by where it is or what it is called; undefined when it is listed (or outside the root, which is not scanned). */
  skips(fileName: string): Skipped | undefined {
    const file = resolve(fileName);
    if (!file.startsWith(this.root + sep)) return undefined;
    const parts = file.slice(this.root.length + 1).split(sep);
    const name = parts.pop()!;
    let dir = this.root;
    for (const part of parts) {
      const skipped = this.skipsDir(dir, part);
      if (skipped) return skipped;
      dir = join(dir, part);
    }
    return this.skipsFileName(dir, name);
  }

  /**
   * Every file under `from` (default the root) that mentions the package,
   * with its text, in path order (a text search; nothing is parsed).
   * `folders: false` keeps output and test folders and test files (the
   * esbuild plugin's load filter: what a build may compile, wider than what
   * it lists); dependencies, hidden folders and transformed output are
   * always left out.
   */
  scan(from: string = this.root, { folders = true }: { folders?: boolean } = {}): Map<string, string> {
    const found: Array<[string, string]> = [];
    const walk = (dir: string): void => {
      const entries = readdirSync(dir, { withFileTypes: true });
      const names = new Set(entries.map((e) => e.name));
      for (const entry of entries) {
        const path = `${dir}${sep}${entry.name}`; // dir is already normal; join() would re-normalize 500 times
        if (entry.isDirectory()) {
          const skipped = folders ? this.skipsDir(dir, entry.name, names) : entry.name === "node_modules" || entry.name.startsWith(".");
          if (!skipped) walk(path);
        } else if (entry.isFile() && isCandidateFile(path) && !(folders && this.skipsFileName(dir, entry.name))) {
          const text = textIfMentionsDurable(path);
          if (text !== undefined && !isTransformedOutput(text)) found.push([path, text]);
        }
      }
    };
    walk(resolve(from));
    return new Map(found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  }
}

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

/** Every file discovery lists under `root`, with its text, in path order (`ignoreDirs`: the option of that name). */
export function scanSources(root: string, ignoreDirs?: readonly string[]): Map<string, string> {
  return new Discovery(root, { ignoreDirs }).scan();
}

/** Every file discovery lists under `root`, in path order. */
export function candidateFiles(root: string, ignoreDirs?: readonly string[]): string[] {
  return [...scanSources(root, ignoreDirs).keys()];
}
