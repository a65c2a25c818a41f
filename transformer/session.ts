// A build session: one lazily created Project for every file of a build, a
// per-file memo keyed by content, and project discovery. Every integration
// (esbuild, Node hook, Vite, check, build) is a thin adapter over this.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Project } from "ts-morph";
import type { Analysis, AnalyzeOptions } from "./analyze.js";
import { DiskCache } from "./cache.js";
import type { Diagnostic } from "./diagnostics.js";
import { candidateFiles, DEFAULT_IGNORE_DIRS, mentionsDurable, type RegistryModule } from "./prefilter.js";
import type { TaskManifestEntry } from "./rewrite.js";

type Core = typeof import("./core.js");

export interface SessionOptions extends Partial<Omit<AnalyzeOptions, "root">> {
  root?: string;
  tsConfigFilePath?: string;
  runtimeModule?: string;
  /** Reuse results from `.durable/cache/` keyed by content (default false for builds). */
  cache?: boolean;
  /** Directory names never scanned during discovery. */
  ignoreDirs?: readonly string[];
}

export interface FileResult {
  fileName: string;
  /** Transformed code; the input when the file has no call sites. */
  code: string;
  /** Source map v3 JSON, or null when the code is unchanged. */
  map: string | null;
  diagnostics: Diagnostic[];
  tasks: TaskManifestEntry[];
  /** The file imports durable-async (integrations hang the registry on these). */
  importsRuntime: boolean;
  analysis: Analysis | null;
}

export interface DiscoveredModule extends RegistryModule {
  diagnostics: Diagnostic[];
}

export function contentKey(fileName: string, source: string): string {
  return createHash("sha256").update(fileName).update("\0").update(source).digest("hex");
}

export class TransformSession {
  readonly root: string;
  private project: Project | undefined;
  private core: Core | undefined;
  private readonly memo = new Map<string, { key: string; result: FileResult }>();
  private readonly disk: DiskCache | undefined;

  constructor(readonly options: SessionOptions = {}) {
    this.root = options.root ?? process.cwd();
    this.disk = options.cache ? new DiskCache(this.root) : undefined;
  }

  private async loadCore(): Promise<Core> {
    this.core ??= await import("./core.js");
    return this.core;
  }

  /** Created on first use, so a build with no durable files never loads the checker. */
  async getProject(): Promise<Project> {
    const { createProject } = await this.loadCore();
    const project = this.project ?? createProject({ root: this.root, tsConfigFilePath: this.options.tsConfigFilePath, typeCheck: this.options.typeCheck });
    this.project = project;
    return project;
  }

  async transform(fileName: string, source: string): Promise<FileResult> {
    if (!mentionsDurable(source)) {
      return { fileName, code: source, map: null, diagnostics: [], tasks: [], importsRuntime: false, analysis: null };
    }
    const key = contentKey(fileName, source);
    const memo = this.memo.get(fileName);
    if (memo?.key === key) return memo.result;
    const cached = this.disk?.get(fileName, source);
    if (cached) {
      const result = { ...cached, analysis: null };
      this.memo.set(fileName, { key, result });
      return result;
    }
    const { analyzeSource, rewrite } = await this.loadCore();
    const analysis = analyzeSource(await this.getProject(), fileName, source, { ...this.options, root: this.root });
    let result: FileResult = {
      fileName, code: source, map: null, diagnostics: analysis.diagnostics, tasks: [], importsRuntime: analysis.importsRuntime, analysis,
    };
    if (analysis.callSites.length > 0) {
      const out = rewrite(source, analysis, { runtimeModule: this.options.runtimeModule });
      result = { ...result, code: out.code, map: JSON.stringify(out.map), tasks: out.manifest.tasks };
    }
    this.memo.set(fileName, { key, result });
    this.disk?.set(fileName, source, result);
    return result;
  }

  candidateFiles(): string[] {
    return candidateFiles(this.root, this.options.ignoreDirs ?? DEFAULT_IGNORE_DIRS);
  }

  /**
   * Transforms many files against one Program. Adding every file before the
   * first checker query matters: each added file after a query rebuilds the
   * Program and throws the checker's work away.
   */
  async transformAll(files: readonly string[]): Promise<FileResult[]> {
    const sources = files.map((fileName) => ({ fileName, source: readFileSync(fileName, "utf8") }));
    const pending = sources.filter(({ fileName, source }) =>
      mentionsDurable(source) && this.memo.get(fileName)?.key !== contentKey(fileName, source) && !this.disk?.get(fileName, source));
    if (pending.length > 1) {
      const project = await this.getProject();
      for (const { fileName, source } of pending) project.createSourceFile(fileName, source, { overwrite: true });
    }
    const results: FileResult[] = [];
    for (const { fileName, source } of sources) results.push(await this.transform(fileName, source));
    return results;
  }

  /** Modules holding stubs, with their task metadata, for the registry. */
  async discover(files: readonly string[] = this.candidateFiles()): Promise<DiscoveredModule[]> {
    const modules: DiscoveredModule[] = [];
    for (const result of await this.transformAll(files)) {
      const fileName = result.fileName;
      if (result.tasks.length > 0 || result.diagnostics.length > 0) {
        modules.push({ fileName, tasks: result.tasks, diagnostics: result.diagnostics });
      }
    }
    return modules;
  }
}

