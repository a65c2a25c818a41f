// `node --import durable-async/register app.ts`: runs TypeScript directly,
// with durable call sites transformed, for development, scripts and tests.
// On start it finds every project file that mentions durable-async and
// registers a lazy loader for each stub module, so a worker started from the
// same sources can run tasks whose modules its entry never imports.
import { register } from "node:module";
import { pathToFileURL } from "node:url";
import { formatDiagnostic } from "../diagnostics.js";
import { scanSources } from "../prefilter.js";
import { TransformSession } from "../session.js";

const root = process.env.DURABLE_ROOT ?? process.cwd();
process.setSourceMapsEnabled(true);
register(new URL("./register-hooks.js", import.meta.url), { parentURL: import.meta.url, data: { root } });

async function registerProjectModules(): Promise<void> {
  // Unchanged files are answered from .durable/cache: a warm start loads no parser.
  const session = new TransformSession({ root, cache: true });
  const sources = scanSources(root);
  const modules: { fileName: string; tasks: unknown[] }[] = [];
  for (const result of await session.transformAll([...sources.keys()], sources)) {
    const fileName = result.fileName;
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
