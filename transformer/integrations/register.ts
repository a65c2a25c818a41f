// `node --import durable-async/register app.ts`: runs TypeScript directly,
// with durable call sites transformed, for development, scripts and tests.
// ES modules are transformed by module hooks on Node's loader thread
// (register-hooks.ts), CommonJS modules by the CommonJS loader on this thread
// (register-cjs.ts). On start it finds every project file that mentions
// durable-async and registers a lazy loader of each module's worker-side
// slice, so a worker started from the same sources can run tasks whose
// modules its entry never imports, without running their top-level code.
import { register } from "node:module";
import { pathToFileURL } from "node:url";
import { processProjectRoot } from "../../src/contract/index.js";
import type { CachedResult } from "../cache.js";
import { DurableTransformError, formatDiagnostic } from "../diagnostics.js";
import { duplicateIds } from "../duplicates.js";
import { SLICE_QUERY } from "../registry-source.js";
import { loadSyntax, TransformSession } from "../session.js";
import { isCommonJsEntry } from "./module-format.js";
import { installCommonJsHook, loadCommonJsSlice } from "./register-cjs.js";

const root = processProjectRoot();
process.setSourceMapsEnabled(true);
register(new URL("./register-hooks.js", import.meta.url), { parentURL: import.meta.url, data: { root } });
// The runtime's UntransformedCallError reads this to tell "the hook is off" from "the hook skipped this file".
(globalThis as Record<symbol, unknown>)[Symbol.for("durable-async.hook")] = { root };

const session = new TransformSession({ searchFrom: root, cache: true });

/** Warnings go to stderr (with DA3005 when discovery does not list the module); errors stop the module from loading, with every diagnostic. */
function checked<T extends CachedResult>(result: T): T {
  if (result.diagnostics.some((d) => d.severity === "error")) throw new DurableTransformError(result.diagnostics);
  for (const d of [...result.diagnostics, ...session.notDiscovered(result)]) process.stderr.write(`durable-async: ${formatDiagnostic(d)}\n`);
  return result;
}

installCommonJsHook((fileName, source) => {
  const result = session.transformSync(fileName, source);
  if (!result) {
    throw new Error(
      `durable-async: ${fileName} is a CommonJS module that uses durable-async, but none was found under ${root} when the process started, ` +
        "so the parser was not loaded for CommonJS. Keep the file inside the project (or set DURABLE_ROOT to the project root).",
    );
  }
  return checked(result);
}, root);

/** Every scanned file's result: unchanged files are answered from .durable/cache, so a warm start loads no parser. */
async function scanProject(): Promise<Map<string, CachedResult>> {
  const sources = session.scanSources();
  const results = await session.transformAll([...sources.keys()], sources);
  return new Map(results.map((r) => [r.fileName, r]));
}

function loaderFor(fileName: string, result: CachedResult): () => Promise<unknown> {
  const slice = result.slice;
  if (result.commonJs && slice) return async () => loadCommonJsSlice(fileName, slice);
  return () => import(pathToFileURL(fileName).href + (slice ? SLICE_QUERY : ""));
}

async function registerProjectModules(): Promise<void> {
  const results = await scanProject();
  // Two files pinning one task id would run each other's jobs: refuse to start, naming both.
  const duplicates = [...duplicateIds([...results.values()]).values()].flat();
  if (duplicates.length > 0) throw new DurableTransformError(duplicates);
  // CommonJS is compiled synchronously: load the parser now if it may be needed.
  if ([...results.values()].some((r) => r.commonJs) || isCommonJsEntry(process.argv[1])) await loadSyntax();
  const modules: Array<{ tasks: unknown[]; load: () => Promise<unknown>; cron: boolean }> = [];
  for (const [fileName, result] of results) {
    // Errors are thrown when the module itself is imported; here they are
    // only listed, so a script that never imports that module still runs.
    if (result.diagnostics.some((d) => d.severity === "error")) {
      for (const d of result.diagnostics) process.stderr.write(`durable-async: ${formatDiagnostic(d)}\n`);
      continue;
    }
    if (result.tasks.length > 0) modules.push({ tasks: result.tasks, load: loaderFor(fileName, result), cron: result.cron });
  }
  if (modules.length === 0) return;
  // A variable specifier keeps tsc from resolving the package to its own
  // not-yet-emitted declarations during the build.
  const runtimeModule: string = "durable-async";
  const runtime = (await import(runtimeModule)) as { __durableModules?: (entries: unknown[]) => void };
  if (typeof runtime.__durableModules !== "function") {
    process.stderr.write("durable-async: the runtime does not export __durableModules; task discovery is disabled\n");
    return;
  }
  runtime.__durableModules(modules);
}

await registerProjectModules();
