// `durable check [paths]`: every call site with its id, captures and
// diagnostics, without building. Full type check, no cache: this is the
// command CI runs, so it must see cross-file type changes.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { TaskMetadata } from "../src/contract/index.js";
import { formatDiagnostic, type Diagnostic } from "./diagnostics.js";
import { candidateFiles, isCandidateFile, projectRelative } from "./prefilter.js";
import { TransformSession, type SessionOptions } from "./session.js";

export type CheckedCallSite = Pick<TaskMetadata, "id" | "kind" | "hash" | "caller" | "captures">;

export interface CheckedFile {
  file: string;
  callSites: CheckedCallSite[];
  diagnostics: Diagnostic[];
}

export interface CheckReport {
  files: CheckedFile[];
  callSites: number;
  errors: number;
  warnings: number;
}

export function filesFor(paths: readonly string[], root: string): string[] {
  const files = new Set<string>();
  for (const path of paths.length ? paths : [root]) {
    const abs = resolve(root, path);
    if (statSync(abs).isDirectory()) for (const f of candidateFiles(abs)) files.add(f);
    else if (isCandidateFile(abs)) files.add(abs);
  }
  return [...files].sort();
}

export async function runCheck(paths: readonly string[], options: SessionOptions = {}): Promise<CheckReport> {
  const root = options.root ?? process.cwd();
  const session = new TransformSession({ ...options, root, cache: false, typeCheck: options.typeCheck ?? true });
  const files: CheckedFile[] = [];
  for (const result of await session.transformAll(filesFor(paths, root))) {
    if (!result.analysis) continue;
    files.push({
      file: projectRelative(root, result.fileName),
      callSites: result.analysis.callSites.map((s) => ({ id: s.id, kind: s.kind, hash: s.hash, caller: s.caller, captures: s.captures })),
      diagnostics: result.diagnostics,
    });
  }
  const all = files.flatMap((f) => f.diagnostics);
  return {
    files,
    callSites: files.reduce((n, f) => n + f.callSites.length, 0),
    errors: all.filter((d) => d.severity === "error").length,
    warnings: all.filter((d) => d.severity === "warning").length,
  };
}

export function formatCheckReport(report: CheckReport): string {
  const lines: string[] = [];
  for (const file of report.files) {
    lines.push(file.file);
    for (const site of file.callSites) {
      const captures = site.captures.length ? site.captures.join(", ") : "(none)";
      lines.push(`  ${site.caller.line}:${site.caller.column}  durable.${site.kind}  ${site.id}  hash ${site.hash}  captures: ${captures}`);
    }
    for (const d of file.diagnostics) lines.push(`  ${formatDiagnostic(d)}`);
  }
  lines.push(`${report.callSites} call site(s), ${report.errors} error(s), ${report.warnings} warning(s)`);
  return lines.join("\n");
}
