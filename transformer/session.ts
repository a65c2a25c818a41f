// A build session: one lazily created Project for every file of a build, a
// per-file memo keyed by content, the optional disk cache, and project
// discovery. This is the one transform path: every integration (esbuild,
// Node hook, Vite, check, build), `transform()` and the golden fixtures go
// through `TransformSession.transform`.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Project } from "ts-morph";
import type { Analysis, AnalyzeOptions } from "./analyze.js";
import { projectRootFrom } from "../src/contract/index.js";
import { DiskCache, type CachedResult } from "./cache.js";
import { duplicateIds } from "./duplicates.js";
import { idRoot } from "./module-path.js";
import type { RegistryModule } from "./registry-source.js";
import { makeDiagnostic, type Diagnostic } from "./diagnostics.js";
import { Discovery, isTestFileName, isTransformedOutput, mentionsDurable } from "./scan.js";
import { loadOptional } from "./optional.js";

type Typecheck = typeof import("./typecheck/index.js");
type Syntax = typeof import("./syntactic.js");

let syntaxModules: Promise<Syntax> | undefined;
let syntaxLoaded: Syntax | undefined;

/**
 * Loads the parser and rewriter once per process (about 30 ms, most of it
 * oxc-parser's native binding), on the first file that needs them: a build
 * whose files do not mention the package never loads them.
 */
export function loadSyntax(): Promise<Syntax> {
  syntaxModules ??= loadOptional("oxc-parser", "the transformer's parser", () => import("./syntactic.js")).then((syntax) => (syntaxLoaded = syntax));
  syntaxModules.catch(() => (syntaxModules = undefined));
  return syntaxModules;
}

export interface SessionOptions extends Partial<Omit<AnalyzeOptions, "root">> {
  /**
   * The project root: task ids are paths relative to it, and discovery scans
   * it. Default: each file's own project root (the nearest package.json that
   * names a project, or the workspace that lists it; `DURABLE_ROOT` wins), so
   * every process of one codebase derives the same ids wherever it started.
   */
  root?: string;
  /** Where discovery starts looking for the root when none is given (default: the working directory). */
  searchFrom?: string;
  tsConfigFilePath?: string;
  /** A Project to check types with, shared with other sessions (default: one created on first use). */
  project?: Project;
  runtimeModule?: string;
  /** Check capture types with the TypeScript checker (default false here: builds leave it to `durable check`). */
  typeCheck?: boolean;
  /** Reuse results from `.durable/cache/` keyed by content (default false for builds). */
  cache?: boolean;
  /**
   * Folder names discovery skips, at any depth (default: dist, build, out,
   * coverage, the tsconfig outDir, test, tests, __tests__ and fixtures, only
   * directly inside a package root). Every integration uses the same rule.
   */
  ignoreDirs?: readonly string[];
  /** Build source maps (default true); the esbuild plugin turns them off when the build writes none. */
  sourceMaps?: boolean;
  /** Embed the original text in source maps (default true). */
  sourcesContent?: boolean;
}

export interface FileResult extends CachedResult {
  /** The analysis, when this session computed the result (null from the disk cache or for files without the package). */
  analysis: Analysis | null;
}

export interface DiscoveredModule extends RegistryModule {
  diagnostics: FileResult["diagnostics"];
}

function unchanged(fileName: string, source: string): FileResult {
  return { fileName, code: source, map: null, diagnostics: [], tasks: [], importsRuntime: false, commonJs: false, slice: null, cron: false, analysis: null };
}

export class TransformSession {
  readonly root: string;
  private project: Project | undefined;
  private typecheck: Typecheck | undefined;
  /** Last result per file, with the source it was computed from. */
  private readonly memo = new Map<string, { source: string; result: FileResult }>();
  private readonly disk: DiskCache | undefined;

  /** The root every id is relative to, when the build names one. */
  readonly explicitRoot: string | undefined;
  /** Which files discovery lists: one rule for every integration. */
  readonly discovery: Discovery;

  constructor(readonly options: SessionOptions = {}) {
    this.explicitRoot = options.root === undefined ? undefined : resolve(options.root);
    this.root = this.explicitRoot ?? projectRootFrom(options.searchFrom ?? process.cwd());
    this.project = options.project;
    this.disk = options.cache ? new DiskCache(this.root, { ...options, root: this.explicitRoot }) : undefined;
    this.discovery = new Discovery(this.root, { ignoreDirs: options.ignoreDirs });
  }

  /** The root `fileName`'s task ids are relative to. */
  rootOf(fileName: string): string {
    return idRoot(fileName, this.explicitRoot);
  }

  private async loadTypecheck(): Promise<Typecheck> {
    this.typecheck ??= await loadOptional("ts-morph", "the TypeScript type check of captures", () => import("./typecheck/index.js"));
    return this.typecheck;
  }

  /** Created on first use, so a build that checks no types never loads the checker. */
  async getProject(): Promise<Project> {
    const { createProject } = await this.loadTypecheck();
    const project = this.project ?? createProject({ root: this.root, tsConfigFilePath: this.options.tsConfigFilePath });
    this.project = project;
    return project;
  }

  async transform(fileName: string, source: string): Promise<FileResult> {
    if (!mentionsDurable(source) || isTransformedOutput(source)) return unchanged(fileName, source);
    const known = this.known(fileName, source);
    if (known) return known;
    const syntax = await loadSyntax();
    const analysis = syntax.analyze(fileName, source, { ...this.options, root: this.rootOf(fileName) });
    if (this.options.typeCheck) {
      const typed = (await this.loadTypecheck()).checkCaptureTypes(await this.getProject(), analysis, this.options);
      if (typed.length > 0) analysis.diagnostics = syntax.sortDiagnostics([...analysis.diagnostics, ...typed]);
    }
    return this.remember(this.output(syntax, analysis, source), source);
  }

  /**
   * The same without waiting, for Node's CommonJS loader, which compiles
   * synchronously: the parser must be loaded already (`loadSyntax()`), and
   * capture types are not checked. Undefined when the parser is not loaded.
   */
  transformSync(fileName: string, source: string): FileResult | undefined {
    if (!mentionsDurable(source) || isTransformedOutput(source)) return unchanged(fileName, source);
    const known = this.known(fileName, source);
    if (known || !syntaxLoaded) return known;
    const analysis = syntaxLoaded.analyze(fileName, source, { ...this.options, root: this.rootOf(fileName) });
    return this.remember(this.output(syntaxLoaded, analysis, source), source);
  }

  private remember(result: FileResult, source: string): FileResult {
    this.memo.set(result.fileName, { source, result });
    this.disk?.set(result.fileName, source, result);
    return result;
  }

  /** The module's rewrite and its worker-side slice. */
  private output(syntax: Syntax, analysis: Analysis, source: string): FileResult {
    const base: FileResult = {
      ...unchanged(analysis.fileName, source), diagnostics: analysis.diagnostics,
      importsRuntime: analysis.importsRuntime, commonJs: analysis.commonJs, analysis,
    };
    if (analysis.callSites.length === 0) return base;
    const options = { runtimeModule: this.options.runtimeModule, sourceMap: this.options.sourceMaps, sourcesContent: this.options.sourcesContent };
    const out = syntax.rewrite(source, analysis, options);
    const slice = syntax.rewriteSlice(source, analysis, options);
    return {
      ...base, code: out.code, map: out.map && JSON.stringify(out.map), tasks: out.manifest.tasks,
      slice: slice && { code: slice.code, map: slice.map && JSON.stringify(slice.map) }, cron: analysis.slice?.cron ?? false,
    };
  }

  /** This text's result from the memo, or from the disk cache (then memoized): each file is looked up on disk once. */
  private known(fileName: string, source: string): FileResult | undefined {
    const memo = this.memo.get(fileName);
    if (memo?.source === source) return memo.result;
    const cached = this.disk?.get(fileName, source);
    if (!cached) return undefined;
    const result = { ...cached, analysis: null };
    this.memo.set(fileName, { source, result });
    return result;
  }

  /** Every file discovery lists, with its text (read once: the Node hook transforms from it). */
  scanSources(): Map<string, string> {
    return this.discovery.scan();
  }

  candidateFiles(): string[] {
    return [...this.scanSources().keys()];
  }

  /**
   * DA3005 for a module an integration compiled (it has tasks) that
   * discovery does not list: the process that imports it runs its jobs, a
   * worker that does not never finds them. Not for test files
   * (`*.test.*`): their call sites run in the test that loads them.
   */
  notDiscovered(result: Pick<FileResult, "fileName" | "tasks">): Diagnostic[] {
    const first = result.tasks[0];
    const skipped = first && !isTestFileName(result.fileName) ? this.discovery.skips(result.fileName) : undefined;
    if (!first || !skipped) return [];
    return [makeDiagnostic("DA3005", first.caller,
      `This module's call sites are compiled, but project discovery skips \`${skipped.path}\` (${skipped.rule}): ` +
        "a worker that does not import this module never finds its tasks, and their jobs wait until they are discarded.")];
  }

  /**
   * Starts transforming `files` one after another, yielding to the event
   * loop between files so a bundler's callbacks are served meanwhile; one
   * promise per file, in order. `texts` holds sources already read (by a
   * scan); other files are read here. With type checks, every file is added to
   * the Project before the first checker query: each file added after a
   * query rebuilds the Program and throws the checker's work away.
   */
  start(files: readonly string[], texts?: ReadonlyMap<string, string>): Array<Promise<FileResult>> {
    const sources = files.map((fileName) => ({ fileName, source: texts?.get(fileName) ?? readFileSync(fileName, "utf8") }));
    const pending = sources.filter(({ fileName, source }) => mentionsDurable(source) && !this.known(fileName, source));
    let previous: Promise<unknown> = this.options.typeCheck && pending.length > 1
      ? this.getProject().then((project) => {
        for (const { fileName, source } of pending) project.createSourceFile(fileName, source, { overwrite: true });
      })
      : Promise.resolve();
    return sources.map(({ fileName, source }) => {
      const result = previous.then(async () => {
        const out = await this.transform(fileName, source);
        if (pending.length > 1) await new Promise(setImmediate);
        return out;
      });
      previous = result.catch(() => undefined);
      return result;
    });
  }

  async transformAll(files: readonly string[], texts?: ReadonlyMap<string, string>): Promise<FileResult[]> {
    return Promise.all(this.start(files, texts));
  }

  /** Modules holding stubs, with their task metadata, for the registry. */
  async discover(files: readonly string[] = this.candidateFiles()): Promise<DiscoveredModule[]> {
    return discoveredModules(await this.transformAll(files));
  }
}

/** The results that belong in the registry: modules with stubs, or with diagnostics to report (a task id another file uses too is DA1012 in both). */
export function discoveredModules(results: readonly CachedResult[]): DiscoveredModule[] {
  const duplicates = duplicateIds(results);
  return results
    .filter((r) => r.tasks.length > 0 || r.diagnostics.length > 0)
    .map((r) => ({
      fileName: r.fileName, tasks: r.tasks, diagnostics: [...r.diagnostics, ...(duplicates.get(r.fileName) ?? [])],
      sliced: r.slice !== null, cron: r.cron, commonJs: r.commonJs,
    }));
}
