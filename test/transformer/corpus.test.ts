// A corpus of 119 call sites in adversarial module layouts (layouts/fixtures/
// corpus: servers at top level, late imports, enums and namespaces, classes
// with static blocks, top-level statements that fill a Map, top-level await,
// decorators, barrels, side-effect imports, CommonJS, JSX, loops…). An
// enqueuing process runs every call site and evaluates each closure's body in
// place; a worker started from another folder, which imports none of these
// modules, runs the jobs. Every result must equal its in-place value, no
// module's top level may run on the worker, and the module-level cron ticks.
// Through the Node hook and through an esbuild bundle.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { spawn } from "node:child_process";
import { describe, expect, it, onTestFinished } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import { makeApp, registerHook, runNode } from "./apps.js";

const corpusDir = join(import.meta.dirname, "layouts", "fixtures", "corpus");

function corpusFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(corpusDir, path)] = readFileSync(path, "utf8");
    }
  };
  walk(corpusDir);
  return files;
}

interface Case { label: string; id: string; expected: unknown }

/** JSON with object keys sorted: key order is a storage matter (tested elsewhere), not the module layout's. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

function startWorker(args: string[], cwd: string, env: Record<string, string>): Promise<number> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let output = "";
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      output += d;
      if (output.includes("worker ready")) resolve(child.pid!);
    });
    child.stderr.on("data", (d) => (output += d));
    child.on("exit", (code) => reject(new Error(`worker exited with ${code}:\n${output}`)));
  });
}

async function runCorpus(root: string, enqueue: string[], worker: { args: string[]; cwd: string }): Promise<void> {
  const db = await testDatabase();
  const marker = join(root, "marker.log");
  writeFileSync(marker, "");
  const env = { DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema, MARKER_FILE: marker };
  const run = await runNode(enqueue, root, env);
  expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
  const cases: Case[] = JSON.parse(run.stdout.trim().split("\n").pop()!);
  expect(cases.length).toBeGreaterThanOrEqual(100);
  const workerPid = await startWorker(worker.args, worker.cwd, env);
  const client = await db.start({ run: false });
  const wrong: string[] = [];
  await Promise.all(cases.map(async (c) => {
    const got = await client.await(c.id, { timeout: "90s" }).catch((error: Error) => `threw ${error.message}`);
    if (canonical(got) !== canonical(c.expected)) wrong.push(`${c.label}: worker ${JSON.stringify(got)}, in place ${JSON.stringify(c.expected)}`);
  }));
  expect(wrong, "jobs whose result differs from the closure in place").toEqual([]);
  const cron = await eventually("the corpus cron entry ticked", async () => (await client.jobs.list({ task: "corpus-every-second", state: "completed" })).jobs[0], 60_000);
  await expect(client.await(cron.id)).resolves.toBe(100);
  const ranOnWorker = readFileSync(marker, "utf8").split("\n").filter((l) => l.endsWith(` ${workerPid}`));
  expect(ranOnWorker, "module top levels the worker ran").toEqual([]);
}

describe("adversarial corpus: 119 call sites, API and worker from different folders", () => {
  it("through the Node hook", async () => {
    const root = makeApp("corpus-hook", corpusFiles());
    await runCorpus(root, ["--import", registerHook, "src/enqueue.ts"], { args: ["--import", registerHook, "worker.ts"], cwd: join(root, "src") });
  });

  it("through an esbuild bundle", async () => {
    const root = makeApp("corpus-esbuild", {
      ...corpusFiles(),
      "build.mjs": `import { build } from "esbuild";
import durable from "durable-async/esbuild";
await build({
  entryPoints: ["src/enqueue.ts", "src/worker.ts"], absWorkingDir: new URL(".", import.meta.url).pathname, outdir: "out",
  outExtension: { ".js": ".mjs" }, bundle: true, packages: "external", format: "esm", platform: "node", target: "node20",
  sourcemap: true, logLevel: "error",
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  plugins: [durable()],
});
`,
    });
    const built = await runNode([join(root, "build.mjs")], join(root, "src"));
    expect(built.code, built.stderr).toBe(0);
    await runCorpus(root, ["--enable-source-maps", "out/enqueue.mjs"], { args: ["--enable-source-maps", "worker.mjs"], cwd: join(root, "out") });
  });
});
