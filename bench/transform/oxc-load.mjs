// oxc-parser loaded two ways, each in fresh processes, alternated: through
// transformer/oxc.ts as the integrations ship it (binding required directly,
// oxc's JSON reader and visitor keys bundled in) and through oxc-parser's
// public entry point. Times the import and the first parse of one module.
// Run:  node bench/transform/oxc-load.mjs [rounds]
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..", "..");
const out = join(here, "..", "out", "oxc-load");
const SOURCE = `import { durable } from "durable-async";\nexport function f(x: number) { durable.async(() => x + 1); }\n`;

if (process.argv[2] === "--child") {
  const started = performance.now();
  const { parseSync, visitorKeys } = await import(pathToFileURL(join(out, `${process.argv[3]}.mjs`)).href);
  const loaded = performance.now();
  const result = parseSync("f.ts", SOURCE, { lang: "ts", astType: "js", sourceType: "module", preserveParens: true });
  if (!result.program.body.length || !visitorKeys.Program) throw new Error("no parse");
  process.stdout.write(JSON.stringify({ load: loaded - started, total: performance.now() - started }) + "\n");
  process.exit(0);
}

const { build } = await import("esbuild");
const { oxcHelpersPlugin } = await import(pathToFileURL(join(repo, "scripts", "bundle-integrations.mjs")).href);
mkdirSync(out, { recursive: true });
const helpers = oxcHelpersPlugin(repo);
await build({
  entryPoints: [join(repo, "transformer", "oxc.ts")], bundle: true, format: "esm", platform: "node", packages: "external",
  plugins: [helpers.plugin], define: { OXC_HELPERS_VERSION: JSON.stringify(helpers.version) }, outfile: join(out, "direct.mjs"), logLevel: "warning",
});
// The bundle must resolve oxc-parser from the repository, as the shipped one does from the user's app.
writeFileSync(join(out, "public.mjs"), `export { parseSync, visitorKeys } from "oxc-parser";\n`);
const rounds = Number(process.argv[2] ?? 21);
const samples = { direct: [], public: [] };
for (let r = 0; r < rounds; r++) {
  for (const name of Object.keys(samples)) {
    samples[name].push(JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--child", name], { encoding: "utf8" })));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`oxc-parser ${helpers.version}: import + first parse, ${rounds} fresh processes each`);
for (const [name, runs] of Object.entries(samples)) {
  console.log(`${name.padEnd(8)} import median ${median(runs.map((r) => r.load)).toFixed(2)} ms   import + parse median ${median(runs.map((r) => r.total)).toFixed(2)} ms`);
}
