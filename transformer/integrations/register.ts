// `node --import durable-async/register app.ts`: runs TypeScript directly,
// with durable call sites transformed, for development, scripts and tests.
// On start it finds every project file that mentions durable-async and
// registers a lazy loader for each stub module, so a worker started from the
// same sources can run tasks whose modules its entry never imports.
import { register } from "node:module";
import { pathToFileURL } from "node:url";
import { DiskCache, type CachedResult } from "../cache.js";
import { formatDiagnostic } from "../diagnostics.js";
import { scanSources } from "../prefilter.js";

const root = process.env.DURABLE_ROOT ?? process.cwd();
process.setSourceMapsEnabled(true);
register(new URL("./register-hooks.js", import.meta.url), { parentURL: import.meta.url, data: { root } });

async function registerProjectModules(): Promise<void> {
  const cache = new DiskCache(root);
  const sources = scanSources(root);
  const results = new Map<string, CachedResult>();
  for (const [fileName, source] of sources) {
    const hit = cache.get(fileName, source);
    if (hit) results.set(fileName, hit);
  }
  const misses = [...sources.keys()].filter((fileName) => !results.has(fileName));
  if (misses.length > 0) {
    // The parser is loaded only on a cache miss: a warm start skips it.
    const { TransformSession } = await import("../session.js");
    const session = new TransformSession({ root });
    for (const result of await session.transformAll(misses, sources)) {
      cache.set(result.fileName, sources.get(result.fileName)!, result);
      results.set(result.fileName, result);
    }
  }
  const modules: { fileName: string; tasks: unknown[] }[] = [];
  for (const [fileName, result] of results) {
    // Errors are thrown when the module itself is imported; here they are
    // only listed, so a script that never imports that module still runs.
    if (result.diagnostics.some((d) => d.severity === "error")) {
      for (const d of result.diagnostics) process.stderr.write(`durable-async: ${formatDiagnostic(d)}\n`);
      continue;
    }
    if (result.tasks.length > 0) modules.push({ fileName, tasks: result.tasks });
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
  runtime.__durableModules(modules.map((m) => ({ tasks: m.tasks, load: () => import(pathToFileURL(m.fileName).href) })));
}

await registerProjectModules();
