// Throwaway apps for integration tests. They live inside the repository
// (under .durable/, git-ignored) and have no package.json of their own, so
// `import "durable-async"` resolves to this package's dist/ by self-reference,
// exactly as it would for a user with the package installed.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
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
  onTestFinished(({ task }) => {
    if (task.result?.state !== "fail") rmSync(dir, { recursive: true, force: true });
  });
  return dir;
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
