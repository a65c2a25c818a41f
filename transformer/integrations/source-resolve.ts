// How the Node hook finds a project's TypeScript sources where Node alone
// would not, for `import` (register-hooks.ts, on the loader thread) and for
// `require` (register-cjs.ts, on the main thread), with one set of rules:
//
// - A relative specifier that names the compiled file names its source:
//   `./users.js` → `./users.ts`/`.tsx`, `./jobs.mjs` → `.mts`, `./jobs.cjs` →
//   `.cts`, `./view.jsx` → `.tsx`, and `./users` → `.ts`/`.tsx`/`/index.ts`.
//   Only when Node finds no file of the name itself.
// - A bare specifier matching the tsconfig `paths` of the importing file
//   (`"@lib/*": ["src/lib/*"]`) resolves to its first target that exists,
//   with the same extension mapping, before Node's own lookup, as tsc and
//   esbuild read it. The tsconfig is the nearest `tsconfig.json` above the
//   importing file, up to the project root; `extends` (a relative or
//   absolute path, or a list of them) is followed; `paths` are relative to
//   `baseUrl` when there is one, else to the tsconfig that declares them.
//   Exact patterns win over `*` patterns, the longest prefix among those.
import { statSync } from "node:fs";
import { dirname, extname, isAbsolute, join, resolve, sep } from "node:path";
import { readJsonc } from "../tsconfig.js";

/** NodeNext style `./users.js` names the compiled file; in source it is `./users.ts`. */
const CANDIDATES: Record<string, string[]> = {
  ".js": [".ts", ".tsx"], ".mjs": [".mts"], ".cjs": [".cts"], ".jsx": [".tsx"], "": [".ts", ".tsx", "/index.ts"],
};
/** `require` cannot load an ES module on Node 20: `.mjs` is not mapped to `.mts` there. */
const REQUIRE_CANDIDATES: Record<string, string[]> = { ...CANDIDATES, ".mjs": [] };

/** The source files a relative specifier may name, in the order they are tried (the specifier itself excluded). */
export function sourceCandidates(specifier: string, forRequire = false): string[] {
  const table = forRequire ? REQUIRE_CANDIDATES : CANDIDATES;
  const ext = extname(specifier);
  const mapped = table[ext];
  if (mapped) return mapped.map((candidate) => specifier.slice(0, -ext.length) + candidate);
  return table[""]!.map((candidate) => specifier + candidate);
}

export const isRelativeOrAbsolute = (specifier: string): boolean =>
  specifier.startsWith("./") || specifier.startsWith("../") || specifier === "." || specifier === ".." || specifier.startsWith("/") || specifier.startsWith("file:");

/** A specifier tsconfig `paths` may name: not relative, not a URL (`node:`, `data:`) and not absolute. */
export const isBareSpecifier = (specifier: string): boolean =>
  !isRelativeOrAbsolute(specifier) && !/^[a-z][a-z0-9+.-]*:/i.test(specifier) && !isAbsolute(specifier);

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** What a `paths` target names: the file itself, else its source by the mapping above, else the extensions tsc tries. */
const TARGET_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json", "/index.ts", "/index.tsx", "/index.js"];
function existingTarget(path: string, forRequire: boolean): string | undefined {
  if (isFile(path)) return path;
  const ext = extname(path);
  const tries = ext && (forRequire ? REQUIRE_CANDIDATES : CANDIDATES)[ext] ? sourceCandidates(path, forRequire) : TARGET_EXTENSIONS.map((e) => path + e);
  return tries.find(isFile);
}

interface PathsConfig {
  tsconfig: string;
  /** Absolute folder the targets are relative to. */
  base: string;
  paths: Array<{ pattern: string; targets: string[] }>;
}

interface ResolvedOptions {
  baseUrl?: string;
  paths?: { base: string; entries: Record<string, unknown> };
}

export interface AliasMatch {
  tsconfig: string;
  pattern: string;
  /** Absolute paths the pattern's targets name, in order. */
  targets: string[];
}

/** tsconfig `paths` for the files of one project, found and read once per folder. */
export class TsconfigPaths {
  private readonly folders = new Map<string, string | null>();
  private readonly configs = new Map<string, PathsConfig | null>();

  constructor(private readonly root: string) {}

  /** The pattern a bare specifier matches in the tsconfig of `parentFile`, with its targets. */
  match(specifier: string, parentFile: string): AliasMatch | undefined {
    if (!isBareSpecifier(specifier) || parentFile.includes(`${sep}node_modules${sep}`)) return undefined;
    const tsconfig = this.tsconfigOf(dirname(parentFile));
    const config = tsconfig ? this.pathsOf(tsconfig) : null;
    if (!config) return undefined;
    let best: { pattern: string; targets: string[]; star: string | null; prefix: number } | undefined;
    for (const { pattern, targets } of config.paths) {
      const star = pattern.indexOf("*");
      if (star === -1) {
        if (pattern === specifier) {
          best = { pattern, targets, star: null, prefix: Infinity };
          break;
        }
        continue;
      }
      const prefix = pattern.slice(0, star);
      const suffix = pattern.slice(star + 1);
      if (specifier.length < prefix.length + suffix.length || !specifier.startsWith(prefix) || !specifier.endsWith(suffix)) continue;
      if (best && best.prefix >= prefix.length) continue;
      best = { pattern, targets, star: specifier.slice(prefix.length, specifier.length - suffix.length), prefix: prefix.length };
    }
    if (!best) return undefined;
    const { star } = best;
    return {
      tsconfig: config.tsconfig,
      pattern: best.pattern,
      targets: best.targets.map((target) => resolve(config.base, star === null ? target : target.replace("*", star))),
    };
  }

  /** The file a matched alias names: its first target that exists. */
  static fileOf(match: AliasMatch, forRequire = false): string | undefined {
    for (const target of match.targets) {
      const file = existingTarget(target, forRequire);
      if (file) return file;
    }
    return undefined;
  }

  /**
   * The error for an alias none of whose targets exists (and that Node did
   * not resolve either). The hooks keep Node's own error for a catch-all
   * `"*"` pattern (often there for types): it says more about a misspelled package.
   */
  static notFound(specifier: string, match: AliasMatch, forRequire = false): Error {
    const error = new Error(
      `durable-async: cannot resolve "${specifier}": it matches "${match.pattern}" in the \`paths\` of ${match.tsconfig}, ` +
        `but none of its targets exists (tried ${match.targets.join(", ")}, with .ts/.tsx/.js/index files). ` +
        "Fix the target in the tsconfig, or import the file by a relative path.",
    );
    (error as Error & { code: string }).code = forRequire ? "MODULE_NOT_FOUND" : "ERR_MODULE_NOT_FOUND";
    return error;
  }

  /** The nearest tsconfig.json from `dir` up to the project root (outside it, up to the nearest package.json's folder). */
  private tsconfigOf(dir: string): string | null {
    const cached = this.folders.get(dir);
    if (cached !== undefined) return cached;
    let found: string | null = null;
    const tsconfig = join(dir, "tsconfig.json");
    const parent = dirname(dir);
    const last = dir === this.root || parent === dir || (!isInside(dir, this.root) && isFile(join(dir, "package.json")));
    if (isFile(tsconfig)) found = tsconfig;
    else if (!last) found = this.tsconfigOf(parent);
    this.folders.set(dir, found);
    return found;
  }

  private pathsOf(tsconfig: string): PathsConfig | null {
    let config = this.configs.get(tsconfig);
    if (config === undefined) {
      const options = compilerOptions(tsconfig, 0);
      const paths = options.paths;
      config = paths
        ? {
            tsconfig,
            base: options.baseUrl ?? paths.base,
            paths: Object.entries(paths.entries)
              .filter((entry): entry is [string, string[]] => Array.isArray(entry[1]))
              .map(([pattern, targets]) => ({ pattern, targets: targets.filter((t): t is string => typeof t === "string") })),
          }
        : null;
      this.configs.set(tsconfig, config);
    }
    return config;
  }
}

const isInside = (dir: string, root: string): boolean => dir === root || dir.startsWith(root.endsWith(sep) ? root : root + sep);

/** `baseUrl` and `paths` of a tsconfig, following `extends` (paths from the config that declares them; the nearest one wins). */
function compilerOptions(file: string, depth: number): ResolvedOptions {
  const config = readJsonc(file) as { extends?: unknown; compilerOptions?: { baseUrl?: unknown; paths?: unknown } } | undefined;
  if (!config || typeof config !== "object") return {};
  const inherited: ResolvedOptions = {};
  const bases = typeof config.extends === "string" ? [config.extends] : Array.isArray(config.extends) ? config.extends : [];
  for (const base of bases) {
    // Only file paths: a package's tsconfig (`@tsconfig/node20`) holds no paths of the project.
    if (typeof base !== "string" || !(base.startsWith(".") || isAbsolute(base)) || depth >= 8) continue;
    const baseFile = resolve(dirname(file), base);
    Object.assign(inherited, compilerOptions(isFile(baseFile) ? baseFile : `${baseFile}.json`, depth + 1));
  }
  const options = config.compilerOptions ?? {};
  const own: ResolvedOptions = {};
  if (typeof options.baseUrl === "string") own.baseUrl = resolve(dirname(file), options.baseUrl);
  if (options.paths && typeof options.paths === "object") own.paths = { base: dirname(file), entries: options.paths as Record<string, unknown> };
  return { ...inherited, ...own };
}
