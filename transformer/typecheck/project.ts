// One ts-morph Project per build, for the capture type check. Creating a
// Project (and its Program) is the expensive part of type checking, and
// TypeScript reuses unchanged source files when a Program is rebuilt, so
// every file of a build goes through the same one.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Project, ts } from "ts-morph";

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
  // The DOM lib alone is larger than most projects; Node code does not need it.
  lib: ["lib.es2023.d.ts"],
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

