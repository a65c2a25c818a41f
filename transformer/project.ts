// One ts-morph Project per build. Creating a Project (and its Program) is the
// expensive part of analysis, and TypeScript reuses unchanged source files when
// a Program is rebuilt, so every file of a build goes through the same one.
import { existsSync } from "node:fs";
import { join, relative, isAbsolute, sep } from "node:path";
import { Project, ts } from "ts-morph";

export const PACKAGE_NAME = "durable-async";

/** Extensions the transformer parses; anything else passes through untouched. */
export const SOURCE_EXTENSIONS = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

/**
 * The cheap pre-filter: a file that never names the package cannot contain a
 * call site, so it is skipped before any parsing (the bench depends on it).
 */
export function mentionsDurable(source: string): boolean {
  return source.includes(PACKAGE_NAME);
}

export function isCandidateFile(fileName: string): boolean {
  return SOURCE_EXTENSIONS.test(fileName) && !fileName.endsWith(".d.ts") && !fileName.includes(`${sep}node_modules${sep}`);
}

export interface ProjectOptions {
  /** Project root: module paths in task ids are relative to it. */
  root: string;
  /** tsconfig used for compiler options; default `<root>/tsconfig.json` when present. */
  tsConfigFilePath?: string;
}

const DEFAULT_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  allowJs: true,
  skipLibCheck: true,
  noEmit: true,
  jsx: ts.JsxEmit.Preserve,
  // TypeScript 6 defaults `types` to []; without Node's types a captured
  // stream or socket would look like `any` and pass with a warning only.
  types: ["node"],
};

export function createProject(options: ProjectOptions): Project {
  const tsconfig = options.tsConfigFilePath ?? join(options.root, "tsconfig.json");
  if (existsSync(tsconfig)) {
    // Files are added one by one as the bundler asks for them; imports are
    // resolved by the Program itself, so types from other files still work.
    return new Project({
      tsConfigFilePath: tsconfig,
      skipAddingFilesFromTsConfig: true,
      compilerOptions: { allowJs: true, noEmit: true },
    });
  }
  return new Project({ compilerOptions: DEFAULT_OPTIONS });
}

/** Forward-slash, project-relative path: the module part of a task id. */
export function projectRelative(root: string, fileName: string): string {
  const rel = isAbsolute(fileName) ? relative(root, fileName) : fileName;
  return rel.split(sep).join("/");
}
