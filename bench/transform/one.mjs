// One build in a fresh process, so every variant pays its own module loading
// (oxc-parser, and ts-morph when types are checked) exactly as a CLI build would. Prints elapsed ms as JSON.
import { rmSync } from "node:fs";
import { join } from "node:path";

const [mode, appDir] = process.argv.slice(2);
const started = performance.now();
const { build } = await import("esbuild");
const plugins = [];
if (mode !== "plain") {
  const { durableEsbuild } = await import(mode === "plugin-gen-mapping" ? "../out/plugin-gen-mapping/esbuild.js" : "../out/plugin/esbuild.js");
  if (mode === "plugin-warm-prepare") rmSync(join(appDir, ".durable"), { recursive: true, force: true });
  plugins.push(durableEsbuild({
    root: appDir,
    typeCheck: mode === "plugin-typecheck",
    cache: mode.startsWith("plugin-warm"),
  }));
}
const result = await build({
  entryPoints: [join(appDir, "src", "index.ts")], bundle: true, platform: "node", format: "esm", target: "node20",
  packages: "external", sourcemap: true, write: false, outdir: join(appDir, "out"), absWorkingDir: appDir, plugins, logLevel: "silent",
});
const ms = performance.now() - started;
const bytes = result.outputFiles.reduce((n, f) => n + f.contents.length, 0);
const stubs = (result.outputFiles.find((f) => f.path.endsWith(".js"))?.text.match(/__durable_task\d*\(\{/g) ?? []).length;
process.stdout.write(JSON.stringify({ mode, ms, bytes, stubs, errors: result.errors.length }) + "\n");
