// Transpiles every TypeScript source to dist/ (same layout, ESM)
// and emits declarations with tsc. Kept as one small script so `npm start`,
// `npm test` and `npm pack` all build the same way.
import { build } from "esbuild";
import { readdirSync, statSync, rmSync, chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { bundleIntegrations } from "./bundle-integrations.mjs";

// examples/ run through the Node hook from source; they are not part of the package.
const roots = ["src", "transformer"];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === "node_modules" || name === "fixtures") continue;
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith(".d.ts") && !name.endsWith(".test.ts")) files.push(path);
  }
};
for (const root of roots) {
  try { walk(root); } catch (error) { if (error.code !== "ENOENT") throw error; }
}

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: files,
  outdir: "dist",
  outbase: ".",
  format: "esm",
  platform: "node",
  target: "node20",
  // No source maps for the package's own files: they would point stack frames
  // (with --enable-source-maps, which the register hook turns on) at src/*.ts,
  // which the package does not ship. The emitted ESM reads like the source.
  sourcemap: false,
  logLevel: "warning",
});

// Replaces the per-file integration entry points (see bundle-integrations.mjs).
await bundleIntegrations(".", "dist/transformer/integrations");

// The `durable` bin must be runnable straight from dist/, not only once npm links it.
if (existsSync("dist/src/cli/bin.js")) chmodSync("dist/src/cli/bin.js", 0o755);

if (!process.argv.includes("--no-types")) {
  const tsc = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
