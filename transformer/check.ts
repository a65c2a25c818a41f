// `durable check [paths]`: every call site with its id, captures and
// diagnostics, without building. Full type check, no cache: this is the
// command CI runs, so it must see cross-file type changes.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { TaskMetadata } from "../src/contract/index.js";
import { formatDiagnostic, sortDiagnostics, type Diagnostic } from "./diagnostics.js";
import { duplicateIds } from "./duplicates.js";
import { isCandidateFile, type Discovery } from "./scan.js";
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

/**
 * The files to check: each path resolved from `base`. A directory is scanned
 * with discovery's rule (the one every integration uses, so what check
 * passes is what workers find); a file named on the command line is checked
 * wherever it is.
 */
export function filesFor(paths: readonly string[], base: string, discovery: Discovery): string[] {
  const files = new Set<string>();
  for (const path of paths.length ? paths : [base]) {
    const abs = resolve(base, path);
    if (statSync(abs).isDirectory()) for (const f of discovery.scan(abs).keys()) files.add(f);
    else if (isCandidateFile(abs)) files.add(abs);
  }
  return [...files].sort();
}

/**
 * Checks `paths` (default: the project root found from the working
 * directory), with the type check, and the DA4xxx notes on what each
 * module's worker-side slice runs. Ids are relative to each file's own
 * project root unless `options.root` names one, as in every build.
 */
export async function runCheck(paths: readonly string[], options: SessionOptions = {}): Promise<CheckReport> {
  const session = new TransformSession({ ...options, cache: false, typeCheck: options.typeCheck ?? true, sliceDiagnostics: true });
  const files: CheckedFile[] = [];
  const base = paths.length ? process.cwd() : session.root;
  const results = await session.transformAll(filesFor(paths, base, session.discovery));
  const duplicates = duplicateIds(results);
  for (const result of results) {
    if (!result.analysis) continue;
    // A file named on the command line that discovery skips: say workers will not find it (DA3005).
    const across = [...duplicates.get(result.fileName) ?? [], ...session.notDiscovered(result)];
    files.push({
      file: result.analysis.file,
      callSites: result.analysis.callSites.map((s) => ({ id: s.id, kind: s.kind, hash: s.hash, caller: s.caller, captures: s.captures })),
      diagnostics: across.length ? sortDiagnostics([...result.diagnostics, ...across]) : result.diagnostics,
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
