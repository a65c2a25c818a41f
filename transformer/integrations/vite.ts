// Vite / Vitest plugin: `import durable from "durable-async/vite"`.
// Runs before Vite strips types (enforce: "pre"). Every module that mentions
// the package also imports a virtual registry module, so whichever module
// starts the worker, the registry of every stub module comes with it; a
// worker loads each module's worker-side slice (`<file>?durable-slice`).
import { readFileSync } from "node:fs";
import { DurableTransformError, formatDiagnostic } from "../diagnostics.js";
import { duplicateIds } from "../duplicates.js";
import { isSliceId, registryImport, registryModuleSource, SLICE_QUERY } from "../registry-source.js";
import { isCandidateFile, mentionsDurable } from "../scan.js";
import { TransformSession, type SessionOptions } from "../session.js";

export interface DurableViteOptions extends SessionOptions {
  /** Import the registry module from every durable module (default true). */
  registry?: boolean;
}

/** The subset of Vite's plugin context this plugin uses (no hard dependency on vite's types). */
interface PluginContext {
  error(error: { message: string; id?: string; loc?: { file?: string; line: number; column: number } }): never;
  warn(message: string | { message: string; id?: string; loc?: { file?: string; line: number; column: number } }): void;
}

export interface DurableVitePlugin {
  name: string;
  enforce: "pre";
  configResolved(config: { root: string }): void;
  resolveId(id: string): string | null;
  load(id: string): Promise<string | { code: string; map: string | null } | null>;
  transform(this: PluginContext, code: string, id: string): Promise<{ code: string; map: string | null } | null>;
}

export const REGISTRY_ID = "virtual:durable-async/registry";
const RESOLVED_REGISTRY_ID = "\0durable-async:registry";

export function durableVite(options: DurableViteOptions = {}): DurableVitePlugin {
  let session = new TransformSession(options);
  return {
    name: "durable-async",
    enforce: "pre",
    configResolved(config) {
      // Ids come from each file's own project root (or `root`); Vite's root is only where discovery starts looking.
      if (!options.root && !options.searchFrom) session = new TransformSession({ ...options, searchFrom: config.root });
    },
    resolveId(id) {
      return id === REGISTRY_ID ? RESOLVED_REGISTRY_ID : null;
    },
    async load(id) {
      if (id === RESOLVED_REGISTRY_ID) {
        // Absolute paths: Vite serves them in SSR/Vitest and via /@fs in dev.
        // A CommonJS module is imported whole: Vite leaves require() to Node, which cannot load a slice.
        const modules = await session.discover();
        // Each file's own errors fail its transform; a task id two files pin fails the registry.
        const duplicates = [...duplicateIds(modules).values()].flat();
        if (duplicates.length > 0) throw new DurableTransformError(duplicates);
        return registryModuleSource(modules, (m) => m.fileName + (m.sliced && !m.commonJs ? SLICE_QUERY : ""), options.runtimeModule);
      }
      if (!isSliceId(id)) return null;
      const fileName = id.slice(0, -SLICE_QUERY.length);
      const result = await session.transform(fileName, readFileSync(fileName, "utf8"));
      // A module edited since the registry was made may have become its own slice.
      return result.slice ?? { code: `import ${JSON.stringify(fileName)};\n`, map: null };
    },
    async transform(code, id) {
      const fileName = id.split("?")[0]!;
      if (id.startsWith("\0") || isSliceId(id) || !isCandidateFile(fileName) || !mentionsDurable(code)) return null;
      const result = await session.transform(fileName, code);
      const errors = result.diagnostics.filter((d) => d.severity === "error");
      for (const d of [...result.diagnostics, ...session.notDiscovered(result)].filter((w) => w.severity === "warning")) {
        this.warn({ message: formatDiagnostic(d), id: fileName, loc: { file: fileName, line: d.line, column: d.column - 1 } });
      }
      if (errors.length > 0) {
        const first = errors[0]!;
        this.error({ message: errors.map(formatDiagnostic).join("\n"), id: fileName, loc: { file: fileName, line: first.line, column: first.column - 1 } });
      }
      // Not in CommonJS: Vite leaves `require()` to Node, which cannot load a virtual module.
      const registry = options.registry === false || result.commonJs ? "" : registryImport(result, REGISTRY_ID);
      if (!registry && !result.map) return null;
      return { code: result.code + registry, map: result.map };
    },
  };
}

export default durableVite;
