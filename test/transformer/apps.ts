// Throwaway apps for integration tests. They live inside the repository
// (under .durable/, git-ignored), each a project of its own: a package.json
// (unless the test writes one) and node_modules/durable-async linked to this
// repository, so `import "durable-async"` resolves to its dist/ as it would
// for a user with the package installed, and the app's root is its folder.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { onTestFinished } from "vitest";

export const repoRoot = resolve(import.meta.dirname, "../..");
export const registerHook = join(repoRoot, "dist/transformer/integrations/register.js");

let counter = 0;

export function makeApp(name: string, files: Record<string, string>): string {
  const dir = join(repoRoot, ".durable", "test-apps", `${name}-${process.pid}-${counter++}`);
  rmSync(dir, { recursive: true, force: true });
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  if (!existsSync(join(dir, "package.json"))) writeFileSync(join(dir, "package.json"), JSON.stringify({ name: name.replace(/[^a-z0-9-]/g, "-"), private: true, type: "module" }));
  linkPackage(dir);
  onTestFinished(({ task }) => {
    if (task.result?.state !== "fail") rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** node_modules/durable-async → this repository (the package as installed, by its real path). */
export function linkPackage(dir: string): void {
  const link = join(dir, "node_modules", "durable-async");
  if (existsSync(link)) return;
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(repoRoot, link, "dir");
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in `cwd` and collects its output. */
export function runNode(args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Run> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolveRun, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`node ${args.join(" ")} did not finish\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** Task ids known to this process' registry (loaded or lazy). */
export const REGISTRY_PROBE = `
const __registry = (globalThis as any)[Symbol.for("durable-async.registry")];
export const knownTaskIds = (): string[] => [...__registry.metadata.keys()].sort();
`;
