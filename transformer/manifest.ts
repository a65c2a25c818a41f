// The build manifest: every task stub in the project with its metadata, for
// deployments that inspect tasks without loading the code (and for review
// diffs: a changed hash shows up as a one-line change).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { formatDiagnostic } from "./diagnostics.js";
import { projectRelative } from "./module-path.js";
import type { TaskMetadata } from "../src/contract/index.js";
import { TransformSession, type SessionOptions } from "./session.js";

export interface Manifest {
  version: 1;
  modules: { file: string; tasks: TaskMetadata[] }[];
  /** Formatted diagnostics, not written to the file. */
  diagnostics: string[];
  errors: number;
}

export async function buildManifest(options: SessionOptions = {}): Promise<Manifest> {
  const session = new TransformSession(options);
  const modules = await session.discover();
  const diagnostics = modules.flatMap((m) => m.diagnostics);
  return {
    version: 1,
    modules: modules.filter((m) => m.tasks.length > 0).map((m) => ({ file: projectRelative(session.rootOf(m.fileName), m.fileName), tasks: m.tasks })),
    diagnostics: diagnostics.map(formatDiagnostic),
    errors: diagnostics.filter((d) => d.severity === "error").length,
  };
}

export function writeManifest(manifest: Manifest, root: string, path: string): string {
  const target = resolve(root, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, `${JSON.stringify({ version: manifest.version, modules: manifest.modules }, null, 2)}\n`);
  return target;
}
