// The transform contract is one module (src/contract) that the transformer
// and the runtime share: the transformer reaches into src/ nowhere else, and
// the runtime exports the helpers under the names transformed code imports.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import * as runtime from "../../src/index.js";
import { MODULES_HELPER_EXPORT, TASK_HELPER_EXPORT } from "../../src/contract/index.js";
import { repoRoot } from "./apps.js";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(entry.name) ? [path] : [];
  });
}

const SPECIFIER = /(?:from|import)\s*\(?\s*["']([^"']+)["']/g;

describe("transform contract", () => {
  it("is the only part of src/ the transformer imports", () => {
    const reached = new Set<string>();
    for (const file of sources(join(repoRoot, "transformer"))) {
      for (const [, specifier] of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
        if (!specifier!.startsWith(".")) continue;
        const target = relative(repoRoot, resolve(dirname(file), specifier!));
        if (target.startsWith("src/")) reached.add(target.split("/").slice(0, 2).join("/"));
      }
    }
    expect([...reached]).toEqual(["src/contract"]);
  });

  it("names the helpers the runtime exports", () => {
    expect(typeof (runtime as Record<string, unknown>)[TASK_HELPER_EXPORT]).toBe("function");
    expect(typeof (runtime as Record<string, unknown>)[MODULES_HELPER_EXPORT]).toBe("function");
  });
});
