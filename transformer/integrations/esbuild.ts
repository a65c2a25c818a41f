// esbuild plugin: `import durable from "durable-async/esbuild"`.
// Thin adapter: files that do not mention the package are left to esbuild;
// the rest go through the shared session. Every module that takes the
// runtime also imports the registry module (as with Vite), so the bundle of
// whichever module starts a worker lists every stub module, even those the
// entry never imports, and loads each one's worker-side slice lazily (a
// worker must be able to run their tasks without running their top level).
import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import type { Message, OnLoadArgs, OnLoadResult, Plugin, PluginBuild } from "esbuild";
import { registryImport, registryModuleSource } from "../registry-source.js";
import { mentionsDurable } from "../scan.js";
import { discoveredModules, TransformSession, type FileResult, type SessionOptions } from "../session.js";
import { exactPathsFilter, firstEntryPoint, LOADERS } from "./esbuild-filters.js";
import { BuildMessages } from "./esbuild-messages.js";
import { inlineSourceMap } from "./inline-source-map.js";
import { originalLocation } from "./map-errors.js";

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
/** How the registry names a module's worker-side slice: `durable-async-slice:/app/src/server.ts`. */
const SLICE_PREFIX = "durable-async-slice:";
const SLICE_NAMESPACE = "durable-async-slice";

/**
 * registry.js, shipped next to this module: modules import the registry by
 * this absolute path, which esbuild resolves by itself, and the plugin loads
 * the build's registry in its place. Not esbuild's `inject`: an injected file
 * becomes an import of every module in the build. The virtual module is the
 * fallback when the file is not there (this plugin bundled into another tool).
 */
function registryFile(): string | undefined {
  try {
    const file = fileURLToPath(new URL("./registry.js", import.meta.url));
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

function withMap(out: { code: string; map: string | null }, extra = ""): string {
  return out.map ? out.code + extra + inlineSourceMap(out.map) : out.code + extra;
}

/** One build (or watch context) with the plugin: its scan, the scanned files' results, the registry, the modules and their slices. */
class DurableBuild {
  readonly session: TransformSession;
  private readonly messages = new BuildMessages();
  private readonly registrySpecifier: string | undefined;
  private scanned: string[];
  private builds = 0;
  /** This build's results for the files discovery lists, started before esbuild asks, so its parser and our analysis run side by side. */
  private results = new Map<string, Promise<FileResult>>();
  /** Files this build loaded rewritten: esbuild's messages about them are mapped back. */
  private readonly transformed = new Set<string>();

  constructor(private readonly build: PluginBuild, private readonly options: DurableEsbuildOptions) {
    const initial = build.initialOptions;
    const entry = firstEntryPoint(initial);
    // Maps only when the build writes them, and with the original text only when the build keeps it.
    this.session = new TransformSession({
      ...options,
      searchFrom: options.searchFrom ?? (entry ? dirname(entry) : initial.absWorkingDir),
      sourceMaps: options.sourceMaps ?? Boolean(initial.sourcemap),
      sourcesContent: options.sourcesContent ?? initial.sourcesContent !== false,
    });
    this.scanned = this.scan();
    this.registrySpecifier = (options.registry ?? initial.bundle === true) ? registryFile() ?? REGISTRY_ID : undefined;
  }

  setup(): void {
    const { build } = this;
    build.onStart(() => this.start());
    build.onEnd((result) => this.mapBack(result));
    build.onResolve({ filter: /^durable-async:registry$/ }, (args) => ({ path: args.path, namespace: NAMESPACE }));
    build.onResolve({ filter: /^durable-async-slice:/ }, (args) => ({ path: args.path.slice(SLICE_PREFIX.length), namespace: SLICE_NAMESPACE }));
    build.onLoad({ filter: /^durable-async:registry$/, namespace: NAMESPACE }, () => this.loadRegistry());
    if (this.registrySpecifier && this.registrySpecifier !== REGISTRY_ID) {
      build.onLoad({ filter: exactPathsFilter([this.registrySpecifier]) }, () => this.loadRegistry());
    }
    build.onLoad({ filter: /.*/, namespace: SLICE_NAMESPACE }, (args) => this.loadSlice(args.path));
    const filter = this.options.files === "all" ? /\.(m|c)?[jt]sx?$/ : exactPathsFilter(this.scanned);
    build.onLoad({ filter }, (args) => this.loadModule(args));
  }

  /**
   * One scan serves the load filter and discovery; a rebuild in watch mode
   * rescans. The load filter takes every file that mentions the package
   * (output and test folders too: a module the entry imports is compiled
   * wherever it is, as the Node hook and Vite do); the registry lists what
   * discovery's one rule lists. Transformed output (a previous build's
   * bundle, wherever its outdir) is neither.
   */
  private scan(): string[] {
    return [...this.session.discovery.scan(this.session.root, { folders: false }).keys()];
  }

  private start(): void {
    this.messages.clear();
    if (this.builds++ > 0) this.scanned = this.scan();
    // Started now, not at setup: a context's first build can come long after setup.
    // Only what discovery lists (the registry needs each of them); a module in an
    // output or test folder is transformed if and when esbuild loads it.
    const listed = this.scanned.filter((file) => !this.session.discovery.skips(file));
    const started = this.session.start(listed);
    this.results = new Map(listed.map((file, i) => [file, started[i]!]));
    for (const pending of started) pending.catch(() => undefined); // reported by the load that needs it
  }

  /** A file's result: started by the scan, or (a file it did not see) transformed now; undefined for a file that never names the package. */
  private result(path: string): Promise<FileResult> | undefined {
    const started = this.results.get(path);
    if (started) return started;
    const text = readFileSync(path, "utf8"); // one small file: no thread-pool hop (nor fs/promises to load)
    return mentionsDurable(text) ? this.session.transform(path, text) : undefined;
  }

  /** Discovery sees files the entry never imports; their errors must still fail the build, or a worker would lack those tasks. */
  private async loadRegistry(): Promise<OnLoadResult> {
    const modules = discoveredModules(await Promise.all(this.results.values()));
    const found = modules.map((m) => this.messages.of(m.diagnostics, m.fileName));
    const contents = registryModuleSource(modules, (m) => (m.sliced ? SLICE_PREFIX : "") + m.fileName, this.options.runtimeModule);
    return { contents, loader: "js", resolveDir: this.session.root, errors: found.flatMap((f) => f.errors), warnings: found.flatMap((f) => f.warnings) };
  }

  private async loadModule(args: OnLoadArgs): Promise<OnLoadResult | undefined> {
    if (args.namespace !== "file" || args.path.includes("/node_modules/") || args.path.endsWith(".d.ts")) return undefined;
    const pending = this.result(args.path);
    if (!pending) return undefined; // esbuild loads it natively
    const result = await pending;
    const registry = this.registrySpecifier ? registryImport(result, this.registrySpecifier) : "";
    if (result.tasks.length === 0 && result.diagnostics.length === 0 && !registry) return undefined; // nothing to change
    const { errors, warnings } = this.messages.of([...result.diagnostics, ...this.session.notDiscovered(result)], args.path);
    if (result.diagnostics.some((d) => d.severity === "error")) return { errors, warnings };
    if (result.tasks.length > 0) this.transformed.add(args.path);
    return { contents: withMap(result, registry), loader: LOADERS[extname(args.path)] ?? "default", warnings, resolveDir: dirname(args.path) };
  }

  /**
   * esbuild's own errors in a transformed module (a symbol declared twice)
   * point into the rewrite: put them at the user's line. A build that writes
   * no source maps had none made, so the file is transformed again with one.
   */
  private async mapBack(result: { errors: Message[]; warnings: Message[] }): Promise<void> {
    const base = this.build.initialOptions.absWorkingDir ?? process.cwd();
    const maps = new Map<string, { map: string | null; source: string }>();
    const mapped = async <T extends { location: Message["location"] }>(item: T): Promise<void> => {
      const location = item.location;
      const fileName = location && resolvePath(base, location.file);
      if (!location || !fileName || !this.transformed.has(fileName)) return;
      let known = maps.get(fileName);
      if (!known) maps.set(fileName, (known = await this.mapOf(fileName)));
      if (known.map) item.location = originalLocation(location, known.map, known.source);
    };
    for (const message of [...result.errors, ...result.warnings]) {
      if (message.pluginName) continue; // ours: at the user's line already
      await mapped(message);
      for (const note of message.notes) await mapped(note);
    }
  }

  private async mapOf(fileName: string): Promise<{ map: string | null; source: string }> {
    const source = readFileSync(fileName, "utf8");
    const map = (await this.result(fileName))?.map
      ?? (await new TransformSession({ ...this.options, root: this.session.explicitRoot, sourceMaps: true, cache: false }).transform(fileName, source)).map;
    return { map, source };
  }

  /** A module's worker-side slice (the module itself when it is its own slice, as a module edited since the registry was made may be). */
  private async loadSlice(path: string): Promise<OnLoadResult> {
    const slice = (await this.result(path))?.slice;
    const contents = slice ? withMap(slice) : `import ${JSON.stringify(path)};\n`;
    return { contents, loader: slice ? LOADERS[extname(path)] ?? "default" : "js", resolveDir: dirname(path) };
  }
}

export function durableEsbuild(options: DurableEsbuildOptions = {}): Plugin {
  return { name: "durable-async", setup: (build) => new DurableBuild(build, options).setup() };
}

export { toMessage } from "./esbuild-messages.js";
export type { Message };
export default durableEsbuild;
