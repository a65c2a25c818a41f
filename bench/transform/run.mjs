// Transform benchmark (issue 3): a generated 500-file app with 100 durable
// call sites, built with esbuild alone and with the durable plugin.
// Run after `npm run build`:  node bench/transform/run.mjs [rounds]
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DURABLE_FILES, FILES, generate } from "./generate.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const appDir = join(here, "..", "out", "transform-app");
const rounds = Number(process.argv[2] ?? 5);
generate(appDir);

function once(mode) {
  const out = execFileSync(process.execPath, [join(here, "one.mjs"), mode, appDir], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop());
}

const modes = ["plain", "plugin", "plugin-scopes", "plugin-warm"];
const samples = Object.fromEntries(modes.map((m) => [m, []]));
once("plugin-warm-prepare"); // fills .durable/cache for the warm variant
for (let r = 0; r < rounds; r++) {
  // Interleaved, so machine load drifts hit every variant alike.
  for (const mode of modes) {
    const result = once(mode);
    if (result.errors) throw new Error(`${mode}: build reported ${result.errors} error(s)`);
    if (mode !== "plain" && result.stubs !== DURABLE_FILES * 2) throw new Error(`${mode}: expected ${DURABLE_FILES * 2} stubs, got ${result.stubs}`);
    samples[mode].push(result.ms);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const plain = median(samples.plain);
console.log(`${FILES + DURABLE_FILES} files (+ index), ${DURABLE_FILES * 2} call sites, ${rounds} rounds, median wall time per build (fresh process)`);
for (const mode of modes) {
  const ms = median(samples[mode]);
  console.log(`${mode.padEnd(14)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / plain).toFixed(2)}x plain`);
}
