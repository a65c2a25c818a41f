// Project discovery is one rule for every integration: what `durable check`
// checks, what the Node hook, the esbuild and Vite plugins list for workers
// and what `durable build` writes are the same files. Output and test folders
// are skipped only directly inside a package root (`src/build/` is source),
// the transformer's own output is skipped by its content wherever a build put
// it, and a module an integration compiles but discovery skips says so
// (DA3005). Needs `npm run build` (the hook runs from dist/).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build, type BuildOptions } from "esbuild";
import { describe, expect, it } from "vitest";
import { runCheck } from "../../transformer/check.js";
import { durableEsbuild } from "../../transformer/integrations/esbuild.js";
import durableVite from "../../transformer/integrations/vite.js";
import { Discovery, isTransformedOutput } from "../../transformer/scan.js";
import { TransformSession } from "../../transformer/session.js";
import { untransformedHint } from "../../src/tasks/call-site.js";
import { makeApp, REGISTRY_PROBE, registerHook, runNode } from "./apps.js";

const call = (name: string, pinned?: string) => `import { durable } from "durable-async";
export function ${name}(n: number) {
  return durable.async(() => console.log("${name}", n)${pinned ? `, { name: "${pinned}" }` : ""});
}
`;

/** A bundle's text as a previous build wrote it (esbuild output: the helper imported, stubs renamed). */
const BUNDLE = `import { durable } from "durable-async";
import { __durableTask as __durable_task } from "durable-async";
var __durable_stub_02 = __durable_task({ id: "src/users.ts#f#0", hash: "0", caller: { file: "src/users.ts", fn: "f", line: 1, column: 1 }, source: "() => 1", captures: [], kind: "async", run: () => 1 });
export const f = () => durable.async(__durable_stub_02, {});
`;

/** Where the README's build.mjs puts a registry a Vite build made: only `__durableModules` names it as ours. */
const VITE_REGISTRY = `import { __durableModules } from "durable-async";
__durableModules([{ tasks: [], load: () => import("./users.js") }]);
`;

const layout = {
  "tsconfig.json": `{
  // tsc writes here: compiled copies of src/, not sources
  "compilerOptions": { "outDir": "./out-tsc", "module": "nodenext", },
}
`,
  "src/main.ts": `import { durable } from "durable-async";
import { pipeline } from "./build/pipeline.js";
export const start = () => durable.start({ run: false });
export const run = () => pipeline(1);
`,
  "src/build/pipeline.ts": call("pipeline"),
  "src/test/helpers.ts": call("helpers"),
  "src/fixtures/seed.ts": call("seed"),
  "src/out/report.ts": call("report"),
  "src/users.test.ts": call("usersTest"),
  "build/deploy.ts": call("deploy"),
  "test/support.ts": call("support"),
  "coverage/lcov.js": call("lcov"),
  "out-tsc/users.js": call("compiled"),
  "lib/server.js": BUNDLE,
  "dist-vite/registry.js": VITE_REGISTRY,
  "packages/shared/package.json": JSON.stringify({ name: "shared", type: "module" }),
  "packages/shared/dist/index.js": call("sharedCompiled"),
  "packages/shared/src/build/steps.ts": call("steps"),
};

const DISCOVERED = [
  "packages/shared/src/build/steps.ts", "src/build/pipeline.ts", "src/fixtures/seed.ts", "src/main.ts", "src/out/report.ts", "src/test/helpers.ts",
];

const relativeTo = (root: string) => (file: string) => file.slice(root.length + 1);

describe("project discovery", () => {
  it("is one rule: check, the Node hook, esbuild, Vite and durable build list the same files", async () => {
    const root = makeApp("discovery-rule", {
      ...layout,
      "src/worker.ts": `import { durable } from "durable-async";\n${REGISTRY_PROBE}\nconsole.log(JSON.stringify(knownTaskIds()), typeof durable);\n`,
    });
    const expected = [...DISCOVERED, "src/worker.ts"].sort();
    const rel = relativeTo(root);
    // The scan itself.
    const session = new TransformSession({ root });
    expect(session.candidateFiles().map(rel)).toEqual(expected);
    // durable check: the same files, and no error from build output read as source.
    const report = await runCheck([], { root, typeCheck: false });
    expect(report.files.map((f) => f.file)).toEqual(expected);
    expect(report.errors).toBe(0);
    // durable build (the manifest) and Vite's registry come from the session's discovery.
    const modules = await session.discover();
    expect(modules.map((m) => rel(m.fileName))).toEqual(expected.filter((f) => f !== "src/main.ts" && f !== "src/worker.ts"));
    const vite = durableVite({ root });
    const registry = (await vite.load("\0durable-async:registry")) as string;
    for (const file of DISCOVERED.filter((f) => f !== "src/main.ts")) expect(registry).toContain(join(root, file));
    expect(registry).not.toContain("build/deploy.ts");
    // esbuild: the registry lists the same task ids.
    const ids = (await bundleIds(root, "src/worker.ts")).sort();
    const expectedIds = ["helpers", "pipeline", "report", "seed", "steps"];
    expect(ids.map((id) => id.split("#")[1]).sort()).toEqual(expectedIds);
    // The Node hook: a worker that imports none of them knows the same ids, and prints nothing.
    const run = await runNode(["--import", registerHook, "src/worker.ts"], root);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout.split(" ")[0]!)).toEqual(ids);
  });

  it("never reads a build's own output as source, whatever its outdir (esbuild twice, check, the hook)", async () => {
    const root = makeApp("discovery-outdir", {
      "src/users.ts": call("register"),
      "src/server.ts": `import { durable } from "durable-async";\nimport { register } from "./users.js";\nexport const start = () => durable.start({ run: false });\nexport const go = () => register(1);\n`,
      "src/worker.ts": `import { durable } from "durable-async";\nconsole.log(typeof durable);\n`,
    });
    // The README's build.mjs, with other outdirs: the second build reads the first one's output.
    const options = (outdir: string, extra: BuildOptions = {}): BuildOptions => ({
      entryPoints: [join(root, "src/server.ts"), join(root, "src/worker.ts")], bundle: true, packages: "external",
      platform: "node", format: "esm", outdir: join(root, outdir), absWorkingDir: root, plugins: [durableEsbuild()], logLevel: "silent", ...extra,
    });
    for (const [outdir, extra] of [["lib", {}], ["dist-split", { splitting: true }], ["dist-vite", {}]] as const) {
      for (let round = 0; round < 2; round++) {
        const result = await build(options(outdir, extra));
        expect(result.errors, `${outdir} build ${round + 1}`).toEqual([]);
        expect(result.warnings, `${outdir} build ${round + 1}`).toEqual([]);
      }
      const out = readdirSync(join(root, outdir)).map((f) => readFileSync(join(root, outdir, f), "utf8"));
      expect(out.some(isTransformedOutput), `${outdir} holds transformed output`).toBe(true);
    }
    const report = await runCheck([], { root, typeCheck: false });
    // A split build's entry with no call sites of its own carries no marker: read, it holds nothing to report.
    expect(report.files.filter((f) => f.callSites.length > 0).map((f) => f.file)).toEqual(["src/users.ts"]);
    expect([report.errors, report.warnings]).toEqual([0, 0]);
    const run = await runNode(["--import", registerHook, "src/worker.ts"], root);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    // Run through the hook, a bundle is left as it is (it is transformed already).
    const bundled = await runNode(["--import", registerHook, "lib/worker.js"], root);
    expect(bundled.stderr).toBe("");
    expect(bundled.code).toBe(0);
  });

  it("skips output folders only directly inside a package root, and the tsconfig outDir", () => {
    const root = makeApp("discovery-skips", layout);
    const discovery = new Discovery(root);
    expect(discovery.skips(join(root, "src/build/pipeline.ts"))).toBeUndefined();
    expect(discovery.skips(join(root, "build/deploy.ts"))).toEqual({ path: "build", rule: expect.stringContaining("build output folders directly inside a package root") });
    expect(discovery.skips(join(root, "test/support.ts"))).toEqual({ path: "test", rule: expect.stringContaining("test folders") });
    expect(discovery.skips(join(root, "out-tsc/users.js"))).toEqual({ path: "out-tsc", rule: expect.stringContaining("outDir") });
    expect(discovery.skips(join(root, "packages/shared/dist/index.js"))).toEqual({ path: "packages/shared/dist", rule: expect.any(String) });
    expect(discovery.skips(join(root, "src/users.test.ts"))).toEqual({ path: "src/users.test.ts", rule: expect.stringContaining("test files") });
    // Folders the user names are skipped wherever they are, and replace the defaults.
    const configured = new Discovery(root, { ignoreDirs: ["build"] });
    expect(configured.skips(join(root, "src/build/pipeline.ts"))).toEqual({ path: "src/build", rule: expect.stringContaining("ignoreDirs") });
    expect(configured.skips(join(root, "test/support.ts"))).toBeUndefined();
  });

  it("says when a module it compiled is not discovered (DA3005), in every integration", async () => {
    const root = makeApp("discovery-da3005", {
      "build/deploy.ts": call("deploy"),
      "src/main.ts": `import { deploy } from "../build/deploy.js";\nimport { durable } from "durable-async";\nexport const start = () => durable.start({ run: false });\nexport const go = () => deploy(1);\nconsole.log("started");\n`,
      "src/main.test.ts": call("inTest"),
    });
    const expected = "build/deploy.ts:3:10 warning DA3005: This module's call sites are compiled, but project discovery skips `build`";
    // The Node hook compiles it (the process imports it) and says workers will not find it.
    const run = await runNode(["--import", registerHook, "src/main.ts"], root);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(expected);
    // esbuild: the same, as a warning at the user's line.
    const result = await build({
      entryPoints: [join(root, "src/main.ts")], bundle: true, packages: "external", platform: "node", format: "esm",
      write: false, outdir: join(root, "dist"), absWorkingDir: root, plugins: [durableEsbuild()], logLevel: "silent",
    });
    expect(result.warnings.map((w) => `${w.location?.file}:${w.location?.line} ${w.text.slice(0, 6)}`)).toEqual(["build/deploy.ts:3 DA3005"]);
    // Vite: a warning from the transform.
    const warnings: string[] = [];
    const vite = durableVite({ root });
    const context = { warn: (w: { message: string }) => warnings.push(w.message), error: (e: { message: string }): never => { throw new Error(e.message); } };
    await vite.transform.call(context, readFileSync(join(root, "build/deploy.ts"), "utf8"), join(root, "build/deploy.ts"));
    expect(warnings).toEqual([expect.stringContaining(expected)]);
    // durable check, given the file by name.
    const report = await runCheck([join(root, "build/deploy.ts")], { root, typeCheck: false });
    expect(report.files[0]!.diagnostics.map((d) => d.code)).toEqual(["DA3005"]);
    // A test file's own call sites run in the test that loads it: nothing to say.
    warnings.length = 0;
    await vite.transform.call(context, readFileSync(join(root, "src/main.test.ts"), "utf8"), join(root, "src/main.test.ts"));
    expect(warnings).toEqual([]);
  });

  it("finds a pinned name two packages use when one is under src/build (DA1012)", async () => {
    const root = makeApp("discovery-dup", {
      "package.json": JSON.stringify({ name: "mono", private: true, type: "module", workspaces: ["apps/*", "packages/*"] }),
      "apps/api/package.json": JSON.stringify({ name: "api", type: "module" }),
      "apps/api/src/build/deploy.ts": call("deploy", "x"),
      "apps/api/src/main.ts": `import { durable } from "durable-async";\nimport { deploy } from "./build/deploy.js";\nexport const start = () => durable.start({ run: false });\nexport const go = () => deploy(1);\n`,
      "packages/shared/package.json": JSON.stringify({ name: "shared", type: "module" }),
      "packages/shared/src/index.ts": call("shared", "x"),
    });
    const report = await runCheck([], { root, typeCheck: false });
    const dup = report.files.flatMap((f) => f.diagnostics.filter((d) => d.code === "DA1012").map((d) => `${d.file}:${d.line}`));
    expect(dup).toEqual(["apps/api/src/build/deploy.ts:3", "packages/shared/src/index.ts:3"]);
    const result = await build({
      entryPoints: [join(root, "apps/api/src/main.ts")], bundle: true, packages: "external", platform: "node", format: "esm",
      write: false, outdir: join(root, "apps/api/dist"), absWorkingDir: root, plugins: [durableEsbuild()], logLevel: "silent",
    }).catch((error: { errors: Array<{ text: string }> }) => error);
    expect("errors" in result ? result.errors.map((e) => e.text.slice(0, 6)) : []).toEqual(["DA1012", "DA1012"]);
    const run = await runNode(["--import", registerHook, "apps/api/src/main.ts"], root);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('apps/api/src/build/deploy.ts:3:10 error DA1012: Task id "x" is also used at packages/shared/src/index.ts:3:10');
  });
});

describe("durable re-exported from a local module", () => {
  const files = {
    "src/lib/reexport.ts": `export { durable } from "durable-async";\n`,
    "src/main.ts": `import { durable } from "./lib/reexport.js";
try {
  durable.async(() => console.log("never compiled"));
} catch (error) {
  console.log((error as Error).message);
}
`,
  };

  it("is a durable check warning where it is re-exported (DA3003)", async () => {
    const root = makeApp("reexport-check", files);
    const report = await runCheck([], { root, typeCheck: false });
    expect(report.files.flatMap((f) => f.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`))).toEqual(["src/lib/reexport.ts:1:10 DA3003"]);
  });

  it("gets an UntransformedCallError that names the local import, not node_modules", async () => {
    const root = makeApp("reexport-hook", files);
    const run = await runNode(["--import", registerHook, "src/main.ts"], root);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${join(root, "src/main.ts")} imports \`durable\` from "./lib/reexport.js", not from "durable-async"`);
    expect(run.stdout).toContain('Import it from "durable-async" in this module.');
    expect(run.stdout).not.toContain("node_modules");
  });

  it("the hint reads the calling file, wherever the process runs", () => {
    const root = makeApp("reexport-hint", files);
    const file = join(root, "src/main.ts");
    expect(untransformedHint(`${file}:3:11`)).toContain(`imports \`durable\` from "./lib/reexport.js", not from "durable-async"`);
    writeFileSync(file, `import { durable } from "durable-async";\ndurable.async(() => 1);\n`);
    expect(untransformedHint(`${file}:2:9`)).not.toContain("imports `durable` from");
  });
});

/** The task ids an esbuild bundle of `entry` registers (lazy or loaded). */
async function bundleIds(root: string, entry: string): Promise<string[]> {
  const outfile = join(root, ".out", "bundle.mjs");
  const result = await build({
    entryPoints: [join(root, entry)], bundle: true, packages: "external", platform: "node", format: "esm",
    outfile, absWorkingDir: root, plugins: [durableEsbuild()], logLevel: "silent", write: false,
  });
  const registry = result.outputFiles[0]!.text;
  return [...registry.matchAll(/id: "([^"]+)"/g)].map((m) => m[1]!).filter((id, i, all) => all.indexOf(id) === i);
}
