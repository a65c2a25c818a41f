// The integration entry points (durable-async/esbuild, /vite, /register and
// the hooks module) ship bundled, with the parser and rewriter in lazily
// loaded chunks. A build loads the plugin cold every time; one file and a
// shared chunk load faster than the twenty modules behind them (about 9 ms
// less main-thread CPU in the transform bench). The bench builds the plugin
// with this same function, so it measures what users install.
import { build } from "esbuild";
import { copyFileSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

export const INTEGRATIONS = ["esbuild", "vite", "register", "register-hooks"];

/**
 * One build per entry point: chunks shared across entries would put more
 * files on each entry's load path, and a plugin pays for every file it loads.
 */
export async function bundleIntegrations(repoRoot, outdir, { sourceMapWriter } = {}) {
  const oxcHelpers = oxcHelpersPlugin(repoRoot);
  // The transform bench swaps in another source-map writer to compare it with ours.
  const swap = sourceMapWriter ? [swapModulePlugin(/^\.\/sourcemap\.js$/, sourceMapWriter)] : [];
  await Promise.all(INTEGRATIONS.map((name) => build({
    entryPoints: [join(repoRoot, "transformer", "integrations", `${name}.ts`)],
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: `chunks/${name}-[name]-[hash]`,
    format: "esm",
    platform: "node",
    target: "node20",
    // oxc-parser, ts-morph, esbuild and vite stay the user's own installs,
    // except oxc-parser's two small JS helpers (see oxcHelpersPlugin).
    packages: "external",
    plugins: [oxcHelpers.plugin, ...swap],
    define: { OXC_HELPERS_VERSION: JSON.stringify(oxcHelpers.version) },
    sourcemap: true,
    logLevel: "warning",
  })));
  // The esbuild plugin serves each build's registry in place of this file (see esbuild.ts).
  copyFileSync(join(repoRoot, "transformer", "integrations", "registry.js"), join(outdir, "registry.js"));
}

/**
 * oxc-parser's AST JSON reader and visitor keys are bundled into the parser's
 * chunk: as package imports they were two more ES modules, each resolved
 * through oxc-parser's exports map, on every cold build (~5 ms). transformer/
 * oxc.ts uses the binding directly only when it is this same oxc-parser
 * release (OXC_HELPERS_VERSION), and oxc-parser's own entry point otherwise.
 */
export function oxcHelpersPlugin(repoRoot) {
  const require = createRequire(resolve(repoRoot, "package.json"));
  const entry = require.resolve("oxc-parser");
  const version = JSON.parse(readFileSync(join(entry, "..", "..", "package.json"), "utf8")).version;
  const files = {
    "oxc-parser/src-js/wrap": join(entry, "..", "wrap.js"),
    "oxc-parser/src-js/generated/visit/keys": join(entry, "..", "generated", "visit", "keys.js"),
  };
  return {
    version,
    plugin: {
      name: "bundle-oxc-helpers",
      setup(b) {
        b.onResolve({ filter: /^oxc-parser\/src-js\// }, (args) => (files[args.path] ? { path: files[args.path] } : undefined));
      },
    },
  };
}

/** Resolves imports matching `filter` to `file` instead (for A/B builds of one module). */
function swapModulePlugin(filter, file) {
  return { name: "swap-module", setup(b) { b.onResolve({ filter }, () => ({ path: file })); } };
}
