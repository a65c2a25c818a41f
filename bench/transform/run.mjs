// Transform benchmark (issue 3): a generated 500-file app with 100 durable
// call sites, built with esbuild alone and with the durable plugin.
// Run:  node bench/transform/run.mjs [rounds]
// The plugin is built into bench/out/plugin first, exactly as the package
// ships it (ts-morph stays external, the checker loads lazily through a split
// chunk), so the bench does not depend on a dist/ that other builds may be
// rewriting.
import { execFileSync } from "node:child_process";
import { bundleIntegrations } from "../../scripts/bundle-integrations.mjs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DURABLE_FILES, FILES, generate } from "./generate.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const appDir = join(here, "..", "out", "transform-app");
const rounds = Number(process.argv[2] ?? 5);
generate(appDir);
// The plugin as the package ships it (scripts/bundle-integrations.mjs), and
// the same plugin with @jridgewell/gen-mapping writing the source maps.
await bundleIntegrations(join(here, "..", ".."), join(here, "..", "out", "plugin"));
await bundleIntegrations(join(here, "..", ".."), join(here, "..", "out", "plugin-gen-mapping"), {
  sourceMapWriter: join(here, "alternatives", "sourcemap-gen-mapping.ts"),
});

function once(mode) {
  const started = performance.now();
  const out = execFileSync(process.execPath, [join(here, "one.mjs"), mode, appDir], { encoding: "utf8" });
  return { ...JSON.parse(out.trim().split("\n").pop()), processMs: performance.now() - started };
}

const modes = ["plain", "plugin", "plugin-gen-mapping", "plugin-typecheck", "plugin-warm"];
const samples = Object.fromEntries(modes.map((m) => [m, []]));
const processSamples = Object.fromEntries(modes.map((m) => [m, []]));
once("plugin-warm-prepare"); // fills .durable/cache for the warm variant
for (let r = 0; r < rounds; r++) {
  // Interleaved, so machine load drifts hit every variant alike.
  for (const mode of modes) {
    const result = once(mode);
    if (result.errors) throw new Error(`${mode}: build reported ${result.errors} error(s)`);
    if (mode !== "plain" && result.stubs !== DURABLE_FILES * 2) throw new Error(`${mode}: expected ${DURABLE_FILES * 2} stubs, got ${result.stubs}`);
    samples[mode].push(result.ms);
    processSamples[mode].push(result.processMs);
  }
}
// The minimum is the least load-sensitive figure on a shared machine; the
// median is printed next to it, and "paired" is the median over rounds of
// each round's own ratio (its plain build ran seconds before), which drifting
// machine load disturbs least.
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const min = (xs) => Math.min(...xs);
console.log(`${FILES + DURABLE_FILES} files (+ index), ${DURABLE_FILES * 2} call sites, ${rounds} rounds, fresh process per build`);
// "build": from the script's first line (before esbuild is imported) to the
// build's result, the stricter figure. "process": the whole \`node build.mjs\`
// run, Node's start-up and exit included, as a user times a CLI build.
console.log(`${"variant".padEnd(16)} ${"build min".padStart(10)} ${"ratio".padStart(6)} ${"median".padStart(8)} ${"ratio".padStart(6)} ${"paired".padStart(6)}   ${"process median".padStart(14)} ${"ratio".padStart(6)} ${"paired".padStart(6)}`);
const ratios = (xs, base) => ({ median: median(xs) / median(base), paired: median(xs.map((ms, r) => ms / base[r])) });
for (const mode of modes) {
  const lo = min(samples[mode]);
  const build = ratios(samples[mode], samples.plain);
  const proc = ratios(processSamples[mode], processSamples.plain);
  console.log(`${mode.padEnd(16)} ${lo.toFixed(0).padStart(7)} ms ${(lo / min(samples.plain)).toFixed(2).padStart(5)}x ${median(samples[mode]).toFixed(0).padStart(5)} ms ${build.median.toFixed(2).padStart(5)}x ${build.paired.toFixed(2).padStart(5)}x   ${median(processSamples[mode]).toFixed(0).padStart(11)} ms ${proc.median.toFixed(2).padStart(5)}x ${proc.paired.toFixed(2).padStart(5)}x`);
}
// The source-map writers side by side (same tokens, same segments).
const genMapping = ratios(samples["plugin-gen-mapping"], samples.plugin);
console.log(`source maps: @jridgewell/gen-mapping build / ours: median ${genMapping.median.toFixed(3)}x, paired ${genMapping.paired.toFixed(3)}x`);
