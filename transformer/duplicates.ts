// Task ids are unique per project, not only per file: two files that pin the
// same `name` would register two bodies under one id, and a job of one would
// run the other's. Each file is analyzed alone, so the check across files
// runs wherever a build sees every file: discovery (esbuild, Vite, the Node
// hook, `durable build`) and `durable check`. Both places are reported.
import type { TaskMetadata } from "../src/contract/index.js";
import { makeDiagnostic, type Diagnostic } from "./diagnostics.js";

const at = (task: TaskMetadata): string => `${task.caller.file}:${task.caller.line}:${task.caller.column}`;

/** DA1012 for every call site whose id another file uses too, keyed by the file it belongs in. */
export function duplicateIds(results: ReadonlyArray<{ fileName: string; tasks: readonly TaskMetadata[] }>): Map<string, Diagnostic[]> {
  const byId = new Map<string, Array<{ fileName: string; task: TaskMetadata }>>();
  for (const { fileName, tasks } of results) {
    for (const task of tasks) {
      const list = byId.get(task.id);
      if (list) list.push({ fileName, task });
      else byId.set(task.id, [{ fileName, task }]);
    }
  }
  const out = new Map<string, Diagnostic[]>();
  for (const [id, sites] of byId) {
    if (new Set(sites.map((s) => s.fileName)).size < 2) continue; // one file's own duplicates are reported by its analysis
    for (const { fileName, task } of sites) {
      const others = sites.filter((s) => s.fileName !== fileName).map((s) => at(s.task));
      const diagnostic = makeDiagnostic("DA1012", task.caller, `Task id "${id}" is also used at ${others.join(", ")}; one id would name two different closures.`, id);
      out.set(fileName, [...(out.get(fileName) ?? []), diagnostic]);
    }
  }
  return out;
}
