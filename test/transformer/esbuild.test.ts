// The esbuild plugin: transformed stubs in the bundle, a registry that pulls
// in stub modules the entry never imports, and diagnostics as esbuild errors
// with the real file, line and column.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, context } from "esbuild";
import { describe, expect, it } from "vitest";
import { durableEsbuild } from "../../transformer/integrations/esbuild.js";
import { makeApp, repoRoot } from "./apps.js";

const REGISTRY_INPUT = "durable-async-registry:durable-async:registry";

const files = {
  "src/main.ts": `import { durable } from "durable-async";
import { shout } from "./shout.js";
export function greet(name: string): Promise<unknown> {
  return durable.async(() => shout(name));
}
export const registry = (globalThis as any)[Symbol.for("durable-async.registry")];
`,
  "src/shout.ts": `export const shout = (s: string): string => s.toUpperCase();\n`,
  "src/jobs/report.ts": `import { durable } from "durable-async";
export function nightly(day: string) {
  durable.async(() => console.log("report", day), { name: "nightly-report" });
}
`,
};

describe("esbuild plugin", () => {
  it("bundles every stub module, including ones the entry never imports", async () => {
    const root = makeApp("esbuild", files);
    const outfile = join(root, "out", "main.mjs");
    const result = await build({
      entryPoints: [join(root, "src/main.ts")], bundle: true, format: "esm", platform: "node", packages: "external",
      outfile, sourcemap: "inline", absWorkingDir: root, plugins: [durableEsbuild({ root })], logLevel: "silent", metafile: true,
    });
    expect(result.errors).toEqual([]);
    // The registry comes with the module that takes the runtime, by the path
    // of the registry.js shipped next to the plugin (esbuild resolves it with
    // no plugin round trip); it is not injected, which would make it an
    // import of every module in the build.
    const imports = (input: string) => result.metafile!.inputs[input]!.imports.map((i) => i.path);
    expect(imports("src/main.ts").some((path) => path.endsWith("transformer/integrations/registry.js"))).toBe(true);
    expect(imports("src/shout.ts")).toEqual([]);
    const bundled = await import(pathToFileURL(outfile).href);
    const ids = [...bundled.registry.metadata.keys()];
    expect(ids).toContain("src/main.ts#greet#0");
    expect(ids).toContain("nightly-report");
    // The report module is lazy: its stub registers when the module loads.
    const lazy = [...bundled.registry.lazy.values()].find((m: { tasks: { id: string }[] }) => m.tasks.some((t) => t.id === "nightly-report"));
    await lazy.load();
    expect(bundled.registry.stubs.has("nightly-report")).toBe(true);
  });

  it("falls back to a virtual registry when registry.js is not next to the plugin", async () => {
    // The plugin bundled into another tool's output has no registry.js beside it.
    const root = makeApp("esbuild-virtual-registry", files);
    const pluginFile = join(root, "tool", "plugin.mjs");
    await build({
      entryPoints: [join(repoRoot, "transformer/integrations/esbuild.ts")], bundle: true, format: "esm", platform: "node",
      packages: "external", outfile: pluginFile, logLevel: "silent",
    });
    const { durableEsbuild: bundledPlugin } = await import(pathToFileURL(pluginFile).href);
    const outfile = join(root, "out", "main.mjs");
    const result = await build({
      entryPoints: [join(root, "src/main.ts")], bundle: true, format: "esm", platform: "node", packages: "external",
      outfile, absWorkingDir: root, plugins: [bundledPlugin({ root })], logLevel: "silent", metafile: true,
    });
    expect(result.errors).toEqual([]);
    expect(Object.keys(result.metafile!.inputs)).toContain(REGISTRY_INPUT);
    const bundled = await import(pathToFileURL(outfile).href);
    expect([...bundled.registry.metadata.keys()]).toContain("nightly-report");
  });

  it("brings the registry with a module that only starts the worker", async () => {
    // The worker's entry has no call sites of its own; every task is in modules it never imports.
    const root = makeApp("esbuild-worker-entry", {
      "src/worker.ts": `import { durable } from "durable-async";
export const start = () => durable.start;
export const registry = (globalThis as any)[Symbol.for("durable-async.registry")];
`,
      "src/jobs/report.ts": files["src/jobs/report.ts"].replace("nightly-report", "worker-entry-report"),
    });
    const outfile = join(root, "out", "worker.mjs");
    const result = await build({
      entryPoints: [join(root, "src/worker.ts")], bundle: true, format: "esm", platform: "node", packages: "external",
      outfile, sourcemap: true, absWorkingDir: root, plugins: [durableEsbuild({ root })], logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    const bundled = await import(pathToFileURL(outfile).href);
    // (The registry is process-wide: other tests' bundles add their ids too.)
    expect([...bundled.registry.metadata.keys()]).toContain("worker-entry-report");

    // An entry that takes the runtime with import() brings it too.
    writeFileSync(join(root, "src/lazy-worker.ts"), `import { hostname } from "node:os";
export const start = async () => (await import("durable-async")).durable.start;
export const host = hostname();
`);
    const lazy = await build({
      entryPoints: [join(root, "src/lazy-worker.ts")], bundle: true, format: "esm", platform: "node", packages: "external",
      write: false, absWorkingDir: root, plugins: [durableEsbuild({ root })], logLevel: "silent", metafile: true,
    });
    expect(lazy.metafile!.inputs["src/lazy-worker.ts"]!.imports.some((i) => i.path.endsWith("registry.js"))).toBe(true);
  });

  it("bundles CommonJS that takes durable with require()", async () => {
    const root = makeApp("esbuild-cjs", {
      "src/main.cjs": `const { durable } = require("durable-async");
function welcome(email) {
  return durable.async(() => "welcome " + email, { name: "cjs-welcome" });
}
module.exports = { welcome, registry: globalThis[Symbol.for("durable-async.registry")] };
`,
      // Never required by the entry: the registry, required by the entry, brings it.
      "src/jobs/nightly.cjs": `const { durable } = require("durable-async");
exports.nightly = (day) => durable.async(() => "report " + day, { name: "cjs-nightly" });
`,
    });
    const outfile = join(root, "out", "main.cjs");
    const result = await build({
      entryPoints: [join(root, "src/main.cjs")], bundle: true, format: "cjs", platform: "node", packages: "external",
      outfile, absWorkingDir: root, plugins: [durableEsbuild({ root })], logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    const bundled = createRequire(import.meta.url)(outfile);
    expect([...bundled.registry.metadata.keys()]).toEqual(expect.arrayContaining(["cjs-nightly", "cjs-welcome"]));
    const stub = bundled.registry.stubs.get("cjs-welcome");
    expect(stub.captures).toEqual(["email"]);
    expect(stub.run({ email: "a@example.com" })).toBe("welcome a@example.com");
  });

  it("reports diagnostics as esbuild errors with file, line and column", async () => {
    const root = makeApp("esbuild-errors", {
      "src/main.ts": `import { durable } from "durable-async";
export class Mailer {
  to = "a@example.com";
  send() {
    durable.async(() => console.log(this.to));
  }
}
`,
    });
    const failure = await build({
      entryPoints: [join(root, "src/main.ts")], bundle: true, write: false, format: "esm", platform: "node",
      packages: "external", absWorkingDir: root, plugins: [durableEsbuild({ root })], logLevel: "silent",
    }).catch((error: { errors: import("esbuild").Message[] }) => error);
    const errors = (failure as { errors: import("esbuild").Message[] }).errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]!.text).toContain("DA1001");
    // esbuild prints locations relative to absWorkingDir.
    expect(errors[0]!.location).toMatchObject({ file: "src/main.ts", line: 5, column: 36, lineText: "    durable.async(() => console.log(this.to));" });
    expect(errors[0]!.notes[0]!.text).toMatch(/^Fix: /);
  });

  it("checks capture types only with typeCheck: true (durable check always does)", async () => {
    const root = makeApp("esbuild-types", {
      "src/main.ts": `import { durable } from "durable-async";
export function later(pending: Promise<number>) {
  durable.async(() => pending);
}
`,
    });
    const options: import("esbuild").BuildOptions = { entryPoints: [join(root, "src/main.ts")], bundle: true, write: false, format: "esm", platform: "node", packages: "external", absWorkingDir: root, logLevel: "silent" };
    const fast = await build({ ...options, plugins: [durableEsbuild({ root })] });
    expect(fast.errors).toEqual([]);
    const typed = await build({ ...options, plugins: [durableEsbuild({ root, typeCheck: true })] }).catch((error: { errors: import("esbuild").Message[] }) => error);
    const errors = (typed as { errors: import("esbuild").Message[] }).errors;
    expect(errors.map((e) => e.text.slice(0, 6))).toEqual(["DA2003"]);
    expect(errors[0]!.location).toMatchObject({ file: "src/main.ts", line: 3, column: 22 });
  });

  it("passes files that do not mention the package through untouched", async () => {
    const root = makeApp("esbuild-plain", { "src/main.ts": `export const x: number = 1;\n` });
    const result = await build({
      entryPoints: [join(root, "src/main.ts")], bundle: true, write: false, format: "esm", platform: "node",
      absWorkingDir: root, plugins: [durableEsbuild({ root, registry: false })], logLevel: "silent",
    });
    expect(result.outputFiles[0]!.text).not.toContain("__durable");
  });

  it("builds a context from the files as they are at each build, not at setup", async () => {
    const root = makeApp("esbuild-context", {
      "src/main.ts": `import { durable } from "durable-async";\nexport function go() { durable.async(() => "first"); }\n`,
    });
    const ctx = await context({
      entryPoints: [join(root, "src/main.ts")], bundle: true, write: false, format: "esm", platform: "node",
      packages: "external", absWorkingDir: root, plugins: [durableEsbuild({ root })], logLevel: "silent",
    });
    try {
      writeFileSync(join(root, "src/main.ts"), `import { durable } from "durable-async";\nexport function go() { durable.async(() => "second"); }\n`);
      const first = await ctx.rebuild();
      const text = first.outputFiles![0]!.text;
      expect(text).toContain('"second"');
      expect(text).not.toContain('"first"');
    } finally {
      await ctx.dispose();
    }
  });
});
