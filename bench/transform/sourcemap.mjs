// Source-map writers head to head: the rewrite of the transform bench's 50
// durable modules, with transformer/sourcemap.ts and with the
// @jridgewell/gen-mapping writer (alternatives/), each in fresh processes
// (a build runs this code cold), alternated.
// Run:  node bench/transform/sourcemap.mjs [rounds]
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { generate } from "./generate.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..", "..");
const out = join(here, "..", "out", "sourcemap");
const appDir = join(here, "..", "out", "transform-app");

if (process.argv[2] === "--child") {
  // One process: analyze every durable file (untimed), then time the rewrites.
  const { analyze, rewrite } = await import(pathToFileURL(join(out, `${process.argv[3]}.mjs`)).href);
  const src = join(appDir, "src");
  const files = readdirSync(src).filter((f) => f.startsWith("task")).map((f) => join(src, f));
  const inputs = files.map((f) => ({ source: readFileSync(f, "utf8"), f })).map(({ source, f }) => ({ source, analysis: analyze(f, source, { root: appDir }) }));
  const time = () => {
    const started = performance.now();
    let bytes = 0;
    for (const { source, analysis } of inputs) bytes += rewrite(source, analysis).map.mappings.length;
    return { ms: performance.now() - started, bytes };
  };
  const cold = time();
  for (let i = 0; i < 20; i++) time();
  const warm = time();
  process.stdout.write(JSON.stringify({ cold: cold.ms, warm: warm.ms, bytes: cold.bytes }) + "\n");
  process.exit(0);
}

const rounds = Number(process.argv[2] ?? 15);
generate(appDir);
const entry = `export { analyze } from ${JSON.stringify(join(repo, "transformer", "analyze.ts"))};\nexport { rewrite } from ${JSON.stringify(join(repo, "transformer", "rewrite.ts"))};\n`;
const swap = (file) => ({ name: "swap", setup(b) { b.onResolve({ filter: /^\.\/sourcemap\.js$/ }, () => ({ path: file })); } });
const writers = { ours: [], "gen-mapping": [swap(join(here, "alternatives", "sourcemap-gen-mapping.ts"))] };
for (const [name, plugins] of Object.entries(writers)) {
  await build({
    stdin: { contents: entry, resolveDir: repo, loader: "ts" }, bundle: true, format: "esm", platform: "node", packages: "external",
    outfile: join(out, `${name}.mjs`), plugins, logLevel: "warning",
  });
}
const samples = { ours: [], "gen-mapping": [] };
for (let r = 0; r < rounds; r++) {
  for (const name of Object.keys(samples)) {
    samples[name].push(JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--child", name], { encoding: "utf8" })));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`rewrite of 50 modules (100 call sites), ${rounds} fresh processes per writer`);
for (const [name, runs] of Object.entries(samples)) {
  console.log(`${name.padEnd(12)} cold median ${median(runs.map((r) => r.cold)).toFixed(2)} ms   warm median ${median(runs.map((r) => r.warm)).toFixed(3)} ms   mappings ${runs[0].bytes} chars`);
}
