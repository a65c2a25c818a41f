// Content-addressed cache in `.durable/cache/`, used only through a
// TransformSession given `cache: true` (the Node hook; builds that ask). The key covers the transformer version, the options that
// change the output, the file name and its text, so a stale entry is never
// read. (With `typeCheck`, types from *other* files can change a capture
// diagnostic without changing this file; `durable check` never uses the cache.)
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TaskMetadata } from "../src/contract/index.js";
import type { Diagnostic } from "./diagnostics.js";
import { idRoot } from "./module-path.js";

/** Bump when analysis or output format changes. */
export const TRANSFORMER_VERSION = "6";

/** The options that change a file's result; part of every key. */
export interface CacheOptions {
  /** The root every id is relative to, when the build names one (else each file's own project root, which is then part of its key). */
  root?: string;
  nodeTypes?: readonly string[];
  serializableClasses?: readonly string[];
  runtimeModule?: string;
  typeCheck?: boolean;
  sourceMaps?: boolean;
  sourcesContent?: boolean;
  sliceDiagnostics?: boolean;
}

/** One file's result: what a session returns, less the in-memory analysis. */
export interface CachedResult {
  fileName: string;
  /** Transformed code; the input when the file has no call sites. */
  code: string;
  /** Source map v3 JSON; null when the code is unchanged or maps are off (`tasks` says whether it changed). */
  map: string | null;
  diagnostics: Diagnostic[];
  tasks: TaskMetadata[];
  /** The file takes durable-async (`import`, `import()`, or `require` in CommonJS): integrations hang the registry on these. */
  importsRuntime: boolean;
  /** A CommonJS module: the registry is attached with `require`, not `import`. */
  commonJs: boolean;
  /** The worker-side slice a worker loads instead of the module; null when the module is its own slice (or has no call sites). */
  slice: { code: string; map: string | null } | null;
  /** The module declares `durable.cron` entries while it loads: workers load it (its slice) at start. */
  cron: boolean;
}

export class DiskCache {
  readonly dir: string;
  private readonly salt: string;
  private ignoreWritten = false;
  private readonly explicitRoot: string | undefined;

  /** `root`: the project whose `.durable/cache/` holds the entries. */
  constructor(root: string, options: CacheOptions = {}) {
    this.dir = join(root, ".durable", "cache");
    this.explicitRoot = options.root;
    this.salt = JSON.stringify([
      TRANSFORMER_VERSION, options.nodeTypes ?? null, process.env.DURABLE_NODE_TYPES ?? "",
      options.serializableClasses ?? null, options.runtimeModule ?? null, options.typeCheck === true,
      options.sourceMaps !== false, options.sourcesContent !== false, options.sliceDiagnostics === true,
    ]);
  }

  /** Ids depend on the file's root, so the root is part of the key: a package.json added above a file makes a new entry. */
  key(fileName: string, source: string): string {
    const root = idRoot(fileName, this.explicitRoot);
    return createHash("sha256").update(this.salt).update("\0").update(root).update("\0").update(fileName).update("\0").update(source).digest("hex");
  }

  get(fileName: string, source: string): CachedResult | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${this.key(fileName, source)}.json`), "utf8")) as CachedResult;
    } catch {
      return undefined;
    }
  }

  set(fileName: string, source: string, result: CachedResult & { analysis?: unknown }): void {
    const { analysis: _analysis, ...plain } = result;
    try {
      mkdirSync(this.dir, { recursive: true });
      if (!this.ignoreWritten) {
        // `.durable/` is local state: keep it out of git even where the project's .gitignore does not say so.
        const ignore = join(this.dir, "..", ".gitignore");
        if (!existsSync(ignore)) writeFileSync(ignore, "# Written by durable-async: local state (development database, caches), never committed.\n*\n");
        this.ignoreWritten = true;
      }
      const target = join(this.dir, `${this.key(fileName, source)}.json`);
      // Write then rename: the hook thread and the main thread may race on a key.
      const temp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(temp, JSON.stringify(plain));
      renameSync(temp, target);
    } catch {
      // A read-only checkout still runs, only slower: caching is not worth failing over.
    }
  }
}
