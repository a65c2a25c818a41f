// Build-session guarantees the bench relies on: files that do not mention the
// package are never parsed, one Project serves the whole build, and the disk
// cache answers a warm start without the checker.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exactPathsFilter } from "../../transformer/integrations/esbuild-filters.js";
import { TransformSession } from "../../transformer/session.js";
import { makeApp } from "./apps.js";

const durableFile = (fn: string) => `import { durable } from "durable-async";
export function ${fn}(id: number) { durable.async(() => console.log(id)); }
`;

describe("transform session", () => {
  it("skips files that do not mention the package before any parsing", async () => {
    const session = new TransformSession({ root: "/virtual" });
    const result = await session.transform("/virtual/plain.ts", "export const x: number = 1;\n");
    expect(result.code).toBe("export const x: number = 1;\n");
    expect((session as unknown as { project?: unknown }).project).toBeUndefined();
  });

  it("builds source maps only when asked, and the code is the same either way", async () => {
    const source = durableFile("maps");
    const fileName = "/virtual/src/maps.ts";
    const mapped = await new TransformSession({ root: "/virtual" }).transform(fileName, source);
    const unmapped = await new TransformSession({ root: "/virtual", sourceMaps: false }).transform(fileName, source);
    const bare = await new TransformSession({ root: "/virtual", sourcesContent: false }).transform(fileName, source);
    expect(unmapped.code).toBe(mapped.code);
    expect(unmapped.tasks).toEqual(mapped.tasks);
    expect(unmapped.map).toBeNull();
    const full = JSON.parse(mapped.map!);
    expect(full.sourcesContent).toEqual([source]);
    expect(JSON.parse(bare.map!)).toEqual({ ...full, sourcesContent: undefined });
    expect(bare.code).toBe(mapped.code);
  });

  it("transforms a build without creating a Project unless types are checked", async () => {
    const root = makeApp("session-syntax", { "src/a.ts": durableFile("a"), "src/b.ts": durableFile("b") });
    const session = new TransformSession({ root });
    const results = await session.transformAll(session.candidateFiles());
    expect(results.flatMap((r) => r.tasks.map((t) => t.id))).toEqual(["src/a.ts#a#0", "src/b.ts#b#0"]);
    expect((session as unknown as { project?: unknown }).project).toBeUndefined();
  });

  it("shares one Project across every file of a type-checked build", async () => {
    const root = makeApp("session-project", { "src/a.ts": durableFile("a"), "src/b.ts": durableFile("b"), "src/c.ts": "export {};\n" });
    const session = new TransformSession({ root, typeCheck: true });
    const files = session.candidateFiles();
    expect(files.map((f) => f.slice(root.length + 1))).toEqual(["src/a.ts", "src/b.ts"]);
    const results = await session.transformAll(files);
    expect(results.flatMap((r) => r.tasks.map((t) => t.id))).toEqual(["src/a.ts#a#0", "src/b.ts#b#0"]);
    const project = await session.getProject();
    expect(project.getSourceFiles().map((f) => f.getFilePath().slice(root.length + 1)).sort()).toEqual(["src/a.ts", "src/b.ts"]);
  });

  it("answers from .durable/cache on a warm start without loading a Project", async () => {
    const root = makeApp("session-cache", { "src/a.ts": durableFile("a") });
    const cold = new TransformSession({ root, cache: true });
    const first = await cold.discover();
    expect(readdirSync(join(root, ".durable", "cache"))).toHaveLength(1);
    const warm = new TransformSession({ root, cache: true });
    const second = await warm.discover();
    expect(second).toEqual(first);
    expect((warm as unknown as { project?: unknown }).project).toBeUndefined();
  });

  it("keys the disk cache by the options that change a result", async () => {
    const root = makeApp("session-cache-options", {
      "src/a.ts": `import { durable } from "durable-async";\nexport function a() { durable.async(() => 1, { nodeType: "gpu" }); }\n`,
    });
    const first = await new TransformSession({ root, cache: true, nodeTypes: ["worker", "gpu"] }).discover();
    expect(first[0]!.diagnostics).toEqual([]);
    const second = await new TransformSession({ root, cache: true, nodeTypes: ["worker"] }).discover();
    expect(second[0]!.diagnostics.map((d) => d.code)).toEqual(["DA1013"]);
    // A result cached without a map must not answer a build that wants one.
    const files = [join(root, "src/a.ts")];
    const [unmapped] = await new TransformSession({ root, cache: true, nodeTypes: ["worker", "gpu"], sourceMaps: false }).transformAll(files);
    expect(unmapped!.map).toBeNull();
    const [mapped] = await new TransformSession({ root, cache: true, nodeTypes: ["worker", "gpu"] }).transformAll(files);
    expect(mapped!.map).not.toBeNull();
  });

  it("builds an esbuild filter that matches exactly the scanned files", () => {
    const filter = exactPathsFilter(["/app/src/a.ts", "/app/src/b (1).ts"]);
    expect(filter.test("/app/src/a.ts")).toBe(true);
    expect(filter.test("/app/src/b (1).ts")).toBe(true);
    expect(filter.test("/app/src/a.tsx")).toBe(false);
    expect(filter.test("/app/src/aXts")).toBe(false);
    expect(exactPathsFilter([]).test("/app/src/a.ts")).toBe(false);
  });
});
