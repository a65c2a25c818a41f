// The transformer's import surface: the pure core (analyze, rewrite), the
// build session every integration uses, and `transform`, one call through
// that same session for scripts.
import { TransformSession, type FileResult, type SessionOptions } from "./session.js";

export { analyze } from "./analyze.js";
export { checkCaptureTypes, createProject } from "./typecheck/index.js";
export type { Analysis, AnalyzeOptions, CallSite } from "./analyze.js";
export { rewrite, manifestEntry } from "./rewrite.js";
export type { RewriteResult, RewriteOptions, ModuleManifest, SourceMapV3 } from "./rewrite.js";
export { CODES, formatDiagnostic, hasErrors, DurableTransformError } from "./diagnostics.js";
export type { Diagnostic, DiagnosticCode, Severity } from "./diagnostics.js";
export { mentionsDurable, isCandidateFile, PACKAGE_NAME, candidateFiles } from "./scan.js";
export { projectRelative } from "./module-path.js";
export { registryModuleSource } from "./registry-source.js";
export { inlineSourceMap } from "./integrations/inline-source-map.js";
export { rewriteSlice } from "./slice-output.js";
export { projectRootOf, projectRootFrom, processProjectRoot } from "../src/contract/index.js";
export type { CallerLocation, TaskKind, TaskMetadata } from "../src/contract/index.js";
export { TransformSession };
export type { SessionOptions, FileResult, DiscoveredModule } from "./session.js";

export interface TransformOptions extends SessionOptions {
  /** Check capture types (default true here, as in `durable check`). */
  typeCheck?: boolean;
}

/**
 * Transforms one file through a fresh session (the path every integration
 * takes), with the capture type check on unless `typeCheck: false`. Pass a
 * `project` to share one type-checking Project across calls.
 */
export function transform(fileName: string, source: string, options: TransformOptions = {}): Promise<FileResult> {
  return new TransformSession({ ...options, typeCheck: options.typeCheck ?? true }).transform(fileName, source);
}
