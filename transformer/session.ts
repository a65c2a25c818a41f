// A build session: one lazily created Project for every file of a build, a
// per-file memo keyed by content, the optional disk cache, and project
// discovery. This is the one transform path: every integration (esbuild,
// Node hook, Vite, check, build), `transform()` and the golden fixtures go
// through `TransformSession.transform`.
import { readFileSync } from "node:fs";
import type { Project } from "ts-morph";
import type { Analysis, AnalyzeOptions } from "./analyze.js";
import { DiskCache, type CachedResult } from "./cache.js";
import { candidateFiles, DEFAULT_IGNORE_DIRS, mentionsDurable, type RegistryModule } from "./prefilter.js";
import { loadOptional } from "./optional.js";

type Typecheck = typeof import("./typecheck/index.js");
type Syntax = typeof import("./syntactic.js");

let syntaxModules: Promise<Syntax> | undefined;

/**
 * Loads the parser and rewriter once per process (about 30 ms, most of it
 * oxc-parser's native binding), on the first file that needs them: a build
 * whose files do not mention the package never loads them.
 */
function loadSyntax(): Promise<Syntax> {
  syntaxModules ??= loadOptional("oxc-parser", "the transformer's parser", () => import("./syntactic.js"));
  syntaxModules.catch(() => (syntaxModules = undefined));
  return syntaxModules;
}

export interface SessionOptions extends Partial<Omit<AnalyzeOptions, "root">> {
  root?: string;
  tsConfigFilePath?: string;
  /** A Project to check types with, shared with other sessions (default: one created on first use). */
  project?: Project;
  runtimeModule?: string;
  /** Check capture types with the TypeScript checker (default false here: builds leave it to `durable check`). */
  typeCheck?: boolean;
  /** Reuse results from `.durable/cache/` keyed by content (default false for builds). */
  cache?: boolean;
  /** Directory names never scanned during discovery. */
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

export class TransformSession {
  readonly root: string;
  private project: Project | undefined;
  private typecheck: Typecheck | undefined;
  /** Last result per file, with the source it was computed from. */
  private readonly memo = new Map<string, { source: string; result: FileResult }>();
  private readonly disk: DiskCache | undefined;

  constructor(readonly options: SessionOptions = {}) {
    this.root = options.root ?? process.cwd();
    this.project = options.project;
    this.disk = options.cache ? new DiskCache(this.root, options) : undefined;
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
    if (!mentionsDurable(source)) {
      return { fileName, code: source, map: null, diagnostics: [], tasks: [], importsRuntime: false, commonJs: false, analysis: null };
    }
    const known = this.known(fileName, source);
    if (known) return known;
    const { analyze, rewrite, sortDiagnostics } = await loadSyntax();
    const analysis = analyze(fileName, source, { ...this.options, root: this.root });
    if (this.options.typeCheck) {
      const typed = (await this.loadTypecheck()).checkCaptureTypes(await this.getProject(), analysis, this.options);
      if (typed.length > 0) analysis.diagnostics = sortDiagnostics([...analysis.diagnostics, ...typed]);
    }
    let result: FileResult = {
      fileName, code: source, map: null, diagnostics: analysis.diagnostics, tasks: [],
      importsRuntime: analysis.importsRuntime, commonJs: analysis.commonJs, analysis,
    };
    if (analysis.callSites.length > 0) {
      const out = rewrite(source, analysis, {
        runtimeModule: this.options.runtimeModule, sourceMap: this.options.sourceMaps, sourcesContent: this.options.sourcesContent,
      });
      result = { ...result, code: out.code, map: out.map && JSON.stringify(out.map), tasks: out.manifest.tasks };
    }
    this.memo.set(fileName, { source, result });
    this.disk?.set(fileName, source, result);
    return result;
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

  candidateFiles(): string[] {
    return candidateFiles(this.root, this.options.ignoreDirs ?? DEFAULT_IGNORE_DIRS);
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

/** The results that belong in the registry: modules with stubs, or with diagnostics to report. */
export function discoveredModules(results: readonly CachedResult[]): DiscoveredModule[] {
  return results
    .filter((r) => r.tasks.length > 0 || r.diagnostics.length > 0)
    .map((r) => ({ fileName: r.fileName, tasks: r.tasks, diagnostics: r.diagnostics }));
}
