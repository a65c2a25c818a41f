import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { onTestFinished } from "vitest";
import { databaseUrl } from "./db.js";

// Examples run the way their README says: `node --import durable-async/register main.ts`
// from the example's folder, against the test database and a schema of the test's own.

export const repoRoot = resolve(import.meta.dirname, "../..");
export const exampleDir = (name: string) => join(repoRoot, "examples", name);

export interface ExampleRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runExample(name: string, options: { args?: string[]; env?: Record<string, string>; schema: string; timeoutMs?: number; entry?: string }): Promise<ExampleRun> {
  const started = Date.now();
  const child = spawn(process.execPath, ["--import", "durable-async/register", options.entry ?? "main.ts", ...(options.args ?? [])], {
    cwd: exampleDir(name),
    env: { ...process.env, DATABASE_URL: databaseUrl(), DURABLE_ROOT: exampleDir(name), DURABLE_SCHEMA: options.schema, DURABLE_LOG_LEVEL: "warn", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolveRun, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`example ${name} did not finish in ${options.timeoutMs ?? 150_000} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 150_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/**
 * Imports an example's modules through the esbuild plugin, so a test can call
 * its functions under `durable-async/testing`. One build with code splitting,
 * so modules the files share are one instance. The output lands inside the
 * repository, so "durable-async" resolves to this package's dist/ — the same
 * copy `durable-async/testing` swaps.
 */
export async function importTransformed<T extends unknown[]>(name: string, files: string[]): Promise<T> {
  const { durableEsbuild } = await import("durable-async/esbuild");
  const outdir = join(repoRoot, ".durable", "test-build", `${name}-${createHash("sha1").update(files.join() + process.pid + Date.now()).digest("hex").slice(0, 8)}`);
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: files.map((f) => join(exampleDir(name), f)),
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    packages: "external",
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "inline",
    logLevel: "error",
    plugins: [durableEsbuild({ root: exampleDir(name), registry: false })],
  });
  const modules = await Promise.all(files.map((f) => import(pathToFileURL(join(outdir, f.replace(/\.ts$/, ".mjs"))).href)));
  // Loaded modules stay in memory; the files are not needed past the import.
  rmSync(outdir, { recursive: true, force: true });
  return modules as T;
}
