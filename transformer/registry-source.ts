// The registry module an integration generates for discovery (docs/INTERNALS.md
// "Discovery"): one entry per module with call sites, holding its task
// metadata and a lazy loader of its worker-side slice.
import { MODULES_HELPER_EXPORT, PACKAGE_NAME, type TaskMetadata } from "../src/contract/index.js";

export interface RegistryModule {
  fileName: string;
  tasks: TaskMetadata[];
  /** A worker loads a generated slice of this module (not the module itself, whose top level does more than the stubs need). */
  sliced: boolean;
  /** The module declares `durable.cron` entries at module level: a node that runs jobs loads it (its slice) at start. */
  cron: boolean;
  /** A CommonJS module (Vite cannot serve its slice: it leaves require() to Node). */
  commonJs: boolean;
}

/** How a registry names the module a worker loads: the file itself, or its slice. */
export type SpecifierFor = (module: RegistryModule) => string;

/** Source of a registry module: lazy loaders for every stub module. */
export function registryModuleSource(modules: readonly RegistryModule[], specifierFor: SpecifierFor, runtimeModule = PACKAGE_NAME): string {
  const entries = modules
    .filter((m) => m.tasks.length > 0)
    .map((m) => `  { tasks: ${JSON.stringify(m.tasks)}, load: () => import(${JSON.stringify(specifierFor(m))})${m.cron ? ", cron: true" : ""} },`);
  return `import { ${MODULES_HELPER_EXPORT} } from ${JSON.stringify(runtimeModule)};\n${MODULES_HELPER_EXPORT}([\n${entries.join("\n")}\n]);\n`;
}

/**
 * What an integration appends to a module that takes the runtime, so that
 * whichever module starts a worker brings the registry of every stub module
 * with it. Appended, not prepended: imports are hoisted anyway, and no
 * mapped line moves. (Only such modules: the runtime's own files mention the
 * package name too, and importing the registry there would be a cycle.)
 */
export function registryImport(result: { importsRuntime: boolean; commonJs: boolean }, specifier: string): string {
  if (!result.importsRuntime) return "";
  return result.commonJs ? `\nrequire(${JSON.stringify(specifier)});\n` : `\nimport ${JSON.stringify(specifier)};\n`;
}

/** The query that names a module's worker-side slice (Node hook and Vite), e.g. `/app/src/server.ts?durable-slice`. */
export const SLICE_QUERY = "?durable-slice";

export function isSliceId(id: string): boolean {
  return id.endsWith(SLICE_QUERY);
}
