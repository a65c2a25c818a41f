// esbuild plugin: `import durable from "durable-async/esbuild"`.
// Thin adapter: files that do not mention the package are left to esbuild;
// the rest go through the shared session. Every module that takes the
// runtime also imports the registry module (as with Vite), so the bundle of
// whichever module starts a worker contains every stub module, even those
// the entry never imports (a worker must be able to run them).
import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Loader, Message, OnLoadResult, PartialMessage, Plugin } from "esbuild";
import type { Diagnostic } from "../diagnostics.js";
import {
  candidateFiles, discoverable, exactPathsFilter, inlineSourceMap, mentionsDurable, OUTPUT_DIRS, registryImport, registryModuleSource,
} from "../prefilter.js";
import { discoveredModules, TransformSession, type FileResult, type SessionOptions } from "../session.js";

export interface DurableEsbuildOptions extends SessionOptions {
  /** Import the registry module from every module that takes the runtime (default: when bundling). */
  registry?: boolean;
  /**
   * "scanned" (default): only files under the root that mentioned the package
   * when the plugin was set up go through the plugin; esbuild loads every
   * other file natively, with no JS round trip. A file that starts using
   * durable-async during a watch session needs a restart. "all": every
   * JS/TS file goes through the plugin and is checked as it loads.
   */
  files?: "scanned" | "all";
}

const REGISTRY_ID = "durable-async:registry";
const NAMESPACE = "durable-async-registry";

/**
 * registry.js, shipped next to this module: modules import the registry by
 * this absolute path, which esbuild resolves by itself, and the plugin loads
 * the build's registry in its place. The virtual module is the fallback when
 * the file is not there (this plugin bundled into another tool).
 */
function registryFile(): string | undefined {
  try {
    const file = fileURLToPath(new URL("./registry.js", import.meta.url));
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

const LOADERS: Record<string, Loader> = {
  ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx",
};

export function toMessage(d: Diagnostic, fileName: string, source: string): PartialMessage {
  const lineText = source.split("\n")[d.line - 1] ?? "";
  return {
    id: d.code,
    text: `${d.code}: ${d.message}`,
    location: { file: fileName, line: d.line, column: d.column - 1, lineText, length: d.name?.length ?? 0 },
    notes: [{ text: `Fix: ${d.fix}.` }],
  };
}

export function durableEsbuild(options: DurableEsbuildOptions = {}): Plugin {
  return {
    name: "durable-async",
    setup(build) {
      const root = resolve(options.root ?? build.initialOptions.absWorkingDir ?? process.cwd());
      // Maps only when the build writes them, and with the original text only when the build keeps it.
      const session = new TransformSession({
        ...options, root,
        sourceMaps: options.sourceMaps ?? Boolean(build.initialOptions.sourcemap),
        sourcesContent: options.sourcesContent ?? build.initialOptions.sourcesContent !== false,
      });
      // A file both imported by an entry and found by discovery would report
      // its diagnostics twice; whichever path reports first wins.
      const reported = new Set<string>();
      const dedupe = (messages: PartialMessage[]): PartialMessage[] => messages.filter((m) => {
        const key = `${m.location?.file}:${m.location?.line}:${m.location?.column}:${m.id}`;
        return reported.has(key) ? false : (reported.add(key), true);
      });
      // One scan serves the load filter and discovery; a rebuild in watch mode rescans.
      const scan = (): string[] => candidateFiles(session.root, options.ignoreDirs ?? OUTPUT_DIRS);
      let scanned = scan();
      let builds = 0;
      // This build's results for the scanned files, started before esbuild
      // asks for them so that its parser and our analysis run side by side.
      let results = new Map<string, Promise<FileResult>>();
      build.onStart(() => {
        reported.clear();
        if (builds++ > 0) scanned = scan();
        // Read now, not at setup: a context's first build can come long after setup.
        const started = session.start(scanned);
        results = new Map(scanned.map((file, i) => [file, started[i]!]));
        for (const pending of started) pending.catch(() => undefined); // reported by the load that needs it
      });
      // Not esbuild's `inject`: an injected file becomes an import of every
      // module in the build, which costs esbuild measurably on large builds.
      const useRegistry = options.registry ?? build.initialOptions.bundle === true;

      const registryPath = useRegistry ? registryFile() : undefined;
      const registrySpecifier = registryPath ?? REGISTRY_ID;
      build.onResolve({ filter: /^durable-async:registry$/ }, (args) => ({ path: args.path, namespace: NAMESPACE }));
      const loadRegistry = async (): Promise<OnLoadResult> => {
        const files = options.ignoreDirs ? scanned : discoverable(session.root, scanned);
        const modules = discoveredModules(await Promise.all(files.map((file) => results.get(file)!)));
        const errors: PartialMessage[] = [];
        const warnings: PartialMessage[] = [];
        for (const module of modules) {
          // Discovery sees files the entry never imports; their errors must
          // still fail the build, or a worker would lack those tasks.
          const source = module.diagnostics.length ? safeRead(module.fileName) : "";
          for (const d of module.diagnostics) (d.severity === "error" ? errors : warnings).push(toMessage(d, module.fileName, source));
        }
        const contents = registryModuleSource(modules, (file) => file, options.runtimeModule);
        return { contents, loader: "js", resolveDir: session.root, errors: dedupe(errors), warnings: dedupe(warnings) };
      };
      build.onLoad({ filter: /^durable-async:registry$/, namespace: NAMESPACE }, loadRegistry);
      if (registryPath) build.onLoad({ filter: exactPathsFilter([registryPath]) }, loadRegistry);

      const filter = options.files === "all"
        ? /\.(m|c)?[jt]sx?$/
        : exactPathsFilter(scanned);
      build.onLoad({ filter }, async (args) => {
        if (args.namespace !== "file" || args.path.includes("/node_modules/") || args.path.endsWith(".d.ts")) return undefined;
        const loader = LOADERS[extname(args.path)] ?? "default";
        const started = results.get(args.path);
        let result: FileResult;
        if (started) {
          result = await started;
        } else {
          const text = readFileSync(args.path, "utf8"); // one small file: no thread-pool hop (nor fs/promises to load)
          if (!mentionsDurable(text)) return undefined; // esbuild loads it natively
          result = await session.transform(args.path, text);
        }
        const registry = useRegistry ? registryImport(result, registrySpecifier) : "";
        if (result.tasks.length === 0 && result.diagnostics.length === 0 && !registry) return undefined; // nothing to change
        const source = result.diagnostics.length ? safeRead(args.path) : "";
        const messages = result.diagnostics.map((d) => ({ severity: d.severity, message: toMessage(d, args.path, source) }));
        const errors = messages.filter((m) => m.severity === "error").map((m) => m.message);
        const warnings = messages.filter((m) => m.severity === "warning").map((m) => m.message);
        if (errors.length > 0) return { errors: dedupe(errors), warnings: dedupe(warnings) };
        const code = result.code + registry;
        const contents = result.map ? code + inlineSourceMap(result.map) : code;
        return { contents, loader, warnings: dedupe(warnings), resolveDir: dirname(args.path) };
      });
    },
  };
}

function safeRead(fileName: string): string {
  try {
    return readFileSync(fileName, "utf8");
  } catch {
    return "";
  }
}

export type { Message };
export default durableEsbuild;
