// The integration entry points (durable-async/esbuild, /vite, /register and
// the hooks module) ship bundled, with the parser and rewriter in lazily
// loaded chunks. A build loads the plugin cold every time; one file and a
// shared chunk load faster than the twenty modules behind them (about 9 ms
// less main-thread CPU in the transform bench). The bench builds the plugin
// with this same function, so it measures what users install.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

export const INTEGRATIONS = ["esbuild", "vite", "register", "register-hooks"];

/**
 * One build per entry point: chunks shared across entries would put more
 * files on each entry's load path, and a plugin pays for every file it loads.
 */
export async function bundleIntegrations(repoRoot, outdir) {
  await Promise.all(INTEGRATIONS.map((name) => build({
    entryPoints: [join(repoRoot, "transformer", "integrations", `${name}.ts`)],
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: `chunks/${name}-[name]-[hash]`,
    format: "esm",
    platform: "node",
    target: "node20",
    // oxc-parser, ts-morph, esbuild and vite stay the user's own installs.
    packages: "external",
    sourcemap: true,
    logLevel: "warning",
  })));
  // The esbuild plugin injects this file from next to itself (see esbuild.ts).
  mkdirSync(outdir, { recursive: true });
  copyFileSync(join(repoRoot, "transformer", "integrations", "registry-entry.js"), join(outdir, "registry-entry.js"));
}
