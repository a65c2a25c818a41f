import { fork, type ChildProcess } from "node:child_process";
import { onTestFinished } from "vitest";
import { databaseUrl } from "./db.js";

const script = new URL("./worker-process.mjs", import.meta.url).pathname;

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves with the next IPC message matching the predicate. */
  message<T = any>(predicate: (m: any) => boolean, limitMs?: number): Promise<T>;
  exited: Promise<number | null>;
}

/** Forks a worker node running the test's schema; killed (if still alive) when the test ends. */
export async function startWorkerProcess(
  schema: string,
  options: { concurrency?: number; leaseTtlMs?: number; mode?: "worker" | "client"; shutdownGraceMs?: number; databaseUrl?: string; env?: Record<string, string> } = {},
): Promise<WorkerProcess> {
  const grace = options.shutdownGraceMs === undefined ? {} : { DURABLE_TEST_GRACE: String(options.shutdownGraceMs) };
  const child = fork(script, [schema, String(options.concurrency ?? 10), String(options.leaseTtlMs ?? 10_000), options.mode ?? "worker"], {
    env: { ...process.env, DURABLE_TEST_DATABASE_URL: options.databaseUrl ?? databaseUrl(), ...grace, ...options.env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const message = <T>(predicate: (m: any) => boolean, limitMs = 60_000) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for a worker message")), limitMs);
      const onMessage = (m: any) => {
        if (!predicate(m)) return;
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(m);
      };
      child.on("message", onMessage);
      child.once("exit", () => reject(new Error(`worker exited (code ${child.exitCode}, signal ${child.signalCode})`)));
    });
  const ready = await message<{ pid: number }>((m) => m?.ready);
  return { child, pid: ready.pid, message, exited };
}
