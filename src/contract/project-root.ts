// Where a project starts, found from the files themselves and never from the
// working directory: task ids are paths relative to it, so an API started
// from the app's root and a worker started from `src/` (or a Docker WORKDIR,
// or a monorepo script) must find the same one. The transformer (ids, the
// discovery scan, the disk cache) and the runtime (the embedded database's
// folder) both ask this module.
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/** An explicit project root for every process of a codebase: wins over everything found on disk. */
export const ROOT_ENV = "DURABLE_ROOT";

/**
 * Keys build tools write into a package.json of their own (`{"type":"module"}`
 * in `dist/esm/`, `{"sideEffects":false}`): a file holding only these marks a
 * module format, not a project.
 */
const MARKER_KEYS = new Set(["type", "sideEffects", "imports", "exports", "main", "module", "types", "typings", "browser"]);

interface Manifest {
  /** A package.json that names a project (not a format marker). */
  project: boolean;
  /** Workspace globs declared here (`workspaces` in package.json, or pnpm-workspace.yaml), when any. */
  workspaces: string[] | null;
}

const manifests = new Map<string, Manifest | null>();
const roots = new Map<string, string>();

function readJson(path: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(readFileSync(path, "utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    // Unreadable or malformed: still somebody's package.json, so still a project.
    return {};
  }
}

/** `packages:` entries of a pnpm-workspace.yaml (the only key it has that matters here). */
function pnpmWorkspaces(path: string): string[] {
  const globs: string[] = [];
  let inPackages = false;
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    if (/^packages\s*:/.test(line)) inPackages = true;
    else if (/^\S/.test(line)) inPackages = false;
    else if (inPackages) {
      const item = /^\s*-\s*["']?([^"'#]+?)["']?\s*(?:#.*)?$/.exec(line);
      if (item) globs.push(item[1]!);
    }
  }
  return globs;
}

function workspaceGlobs(json: Record<string, unknown>): string[] | null {
  const field = json.workspaces;
  if (Array.isArray(field)) return field.filter((g): g is string => typeof g === "string");
  if (typeof field === "object" && field !== null && Array.isArray((field as { packages?: unknown }).packages)) {
    return ((field as { packages: unknown[] }).packages).filter((g): g is string => typeof g === "string");
  }
  return null;
}

function manifestAt(dir: string): Manifest | null {
  const known = manifests.get(dir);
  if (known !== undefined) return known;
  let manifest: Manifest | null = null;
  const pkg = join(dir, "package.json");
  const pnpm = join(dir, "pnpm-workspace.yaml");
  if (existsSync(pkg)) {
    const json = readJson(pkg) ?? {};
    const keys = Object.keys(json);
    const project = keys.length === 0 || keys.some((k) => !MARKER_KEYS.has(k));
    manifest = { project, workspaces: workspaceGlobs(json) };
  }
  if (existsSync(pnpm)) manifest = { project: true, workspaces: [...(manifest?.workspaces ?? []), ...pnpmWorkspaces(pnpm)] };
  manifests.set(dir, manifest);
  return manifest;
}

function globToRegExp(glob: string): RegExp {
  const clean = glob.replace(/^\.\//, "").replace(/\/+$/, "");
  let pattern = "";
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i]!;
    if (c === "*" && clean[i + 1] === "*") {
      pattern += ".*";
      i++;
    } else if (c === "*") pattern += "[^/]*";
    else if (c === "?") pattern += "[^/]";
    else pattern += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${pattern}$`);
}

/** Whether the package at `pkgDir` is one of the workspaces `globs` (relative to `rootDir`) declare. */
function isWorkspaceMember(rootDir: string, pkgDir: string, globs: readonly string[]): boolean {
  const rel = relative(rootDir, pkgDir).split(sep).join("/");
  let member = false;
  for (const glob of globs) {
    if (glob.startsWith("!")) {
      if (globToRegExp(glob.slice(1)).test(rel)) member = false;
    } else if (globToRegExp(glob).test(rel)) member = true;
  }
  return member;
}

/** The nearest directory at or above `dir` whose package.json names a project; then the nearest with node_modules; else `dir`. */
function nearestProject(dir: string): string {
  let withModules: string | undefined;
  for (let d = dir; ; d = dirname(d)) {
    if (manifestAt(d)?.project) return d;
    withModules ??= existsSync(join(d, "node_modules")) ? d : undefined;
    if (dirname(d) === d) return withModules ?? dir;
  }
}

/** A package that is a member of a workspace above it belongs to that workspace's root: ids stay unique across the monorepo. */
function workspaceRoot(pkgDir: string): string {
  for (let d = dirname(pkgDir); dirname(d) !== d; d = dirname(d)) {
    const globs = manifestAt(d)?.workspaces;
    if (globs && isWorkspaceMember(d, pkgDir, globs)) return d;
  }
  return pkgDir;
}

/**
 * The project root of a directory: `DURABLE_ROOT` when set; else the nearest
 * directory above with a package.json that names a project (one holding only
 * `type`/`sideEffects`/… is a build tool's format marker and is passed over),
 * raised to the root of a workspace (npm, yarn or pnpm) that lists that
 * package; else the nearest directory with node_modules; else `dir` itself.
 */
export function projectRootFrom(dir: string): string {
  const explicit = process.env[ROOT_ENV];
  if (explicit) return resolve(explicit);
  const start = resolve(dir);
  let root = roots.get(start);
  if (root === undefined) {
    root = workspaceRoot(nearestProject(start));
    roots.set(start, root);
  }
  return root;
}

/** The project root a source file belongs to (see projectRootFrom). */
export function projectRootOf(fileName: string): string {
  return projectRootFrom(dirname(resolve(fileName)));
}

/**
 * This process's project: from `DURABLE_ROOT`, else from the main script
 * (`node dist/worker.mjs`, `node --import … src/worker.ts`), else, when the
 * main script is a tool inside node_modules (the `durable` CLI, vitest) or
 * there is none (a REPL), from the working directory.
 */
export function processProjectRoot(): string {
  const main = process.argv[1];
  if (main && !process.env[ROOT_ENV]) {
    try {
      const file = realpathSync(resolve(main));
      if (statSync(file).isFile() && !file.split(sep).includes("node_modules")) return projectRootOf(file);
    } catch {
      // Not a file (`node -e`, a missing script): fall back to the working directory.
    }
  }
  return projectRootFrom(process.cwd());
}

/** Forgets what was read from disk (tests that create and remove package.json files). */
export function clearProjectRootCache(): void {
  manifests.clear();
  roots.clear();
}
