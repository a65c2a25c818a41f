// Content-addressed cache in `.durable/cache/` for the Node hook. Loading the
// TypeScript checker costs about a second; a warm start should not pay it.
// The key covers the file name, its text and the transformer version, so a
// stale entry is never read. (Types from *other* files can change a capture
// diagnostic without changing this file; `durable check` is the full check.)
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FileResult } from "./session.js";

/** Bump when analysis or output format changes. */
export const TRANSFORMER_VERSION = "2";

export type CachedResult = Omit<FileResult, "analysis">;

export class DiskCache {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, ".durable", "cache");
  }

  key(fileName: string, source: string): string {
    return createHash("sha256").update(TRANSFORMER_VERSION).update("\0").update(fileName).update("\0").update(source).digest("hex");
  }

  get(fileName: string, source: string): CachedResult | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${this.key(fileName, source)}.json`), "utf8")) as CachedResult;
    } catch {
      return undefined;
    }
  }

  set(fileName: string, source: string, result: FileResult): void {
    const { analysis: _analysis, ...plain } = result;
    try {
      mkdirSync(this.dir, { recursive: true });
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
