// The transformer's import surface: the pure core (analyze, rewrite) and a
// one-call `transform` for integrations and scripts.
import type { Project } from "ts-morph";
import { analyze, type AnalyzeOptions, type Analysis } from "./analyze.js";
import { analyzeSource } from "./capture-types.js";
import type { Diagnostic } from "./diagnostics.js";
import { createProject, mentionsDurable } from "./project.js";
import { rewrite, type RewriteResult, type TaskManifestEntry } from "./rewrite.js";
import { projectRootOf } from "../src/contract/project-root.js";

export { analyze } from "./analyze.js";
export { analyzeSource, checkCaptureTypes } from "./capture-types.js";
export type { Analysis, AnalyzeOptions, CallSite, CallerLocation, CallKind } from "./analyze.js";
export { rewrite, manifestEntry } from "./rewrite.js";
export type { RewriteResult, RewriteOptions, ModuleManifest, TaskManifestEntry } from "./rewrite.js";
export { CODES, formatDiagnostic, hasErrors, DurableTransformError } from "./diagnostics.js";
export type { Diagnostic, DiagnosticCode, Severity } from "./diagnostics.js";
export { createProject, mentionsDurable, isCandidateFile, projectRelative, PACKAGE_NAME } from "./project.js";

export interface TransformOptions extends Partial<AnalyzeOptions> {
  /** Reuse one Project per build; a new one is created when absent. */
  project?: Project;
  runtimeModule?: string;
}

export interface TransformResult {
  /** Transformed code, or the input unchanged when there is nothing to do. */
  code: string;
  map: RewriteResult["map"] | null;
  diagnostics: Diagnostic[];
  tasks: TaskManifestEntry[];
  analysis: Analysis | null;
}

export function transform(fileName: string, source: string, options: TransformOptions = {}): TransformResult {
  if (!mentionsDurable(source)) return { code: source, map: null, diagnostics: [], tasks: [], analysis: null };
  const root = options.root ?? projectRootOf(fileName);
  // The Project is only needed for the capture type check.
  const project = options.project ?? (options.typeCheck === false ? undefined : createProject({ root }));
  const analysis = project ? analyzeSource(project, fileName, source, { ...options, root }) : analyze(fileName, source, { ...options, root });
  if (analysis.callSites.length === 0) {
    return { code: source, map: null, diagnostics: analysis.diagnostics, tasks: [], analysis };
  }
  const result = rewrite(source, analysis, { runtimeModule: options.runtimeModule });
  return { code: result.code, map: result.map, diagnostics: analysis.diagnostics, tasks: result.manifest.tasks, analysis };
}
export { TransformSession } from "./session.js";
export type { SessionOptions, FileResult, DiscoveredModule } from "./session.js";
export { candidateFiles } from "./scan.js";
export { registryModuleSource } from "./registry-source.js";
export { inlineSourceMap } from "./integrations/inline-source-map.js";
export { rewriteSlice } from "./slice-output.js";
export { projectRootOf, projectRootFrom, processProjectRoot } from "../src/contract/project-root.js";
