import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import pg from "pg";
import { ConfigError } from "../errors.js";
import type { RunAs } from "./embedded-place.js";

// The embedded server as a process: running pg_ctl and initdb, reading
// postmaster.pid, telling a live server from a stale pid file, and a start
// lock shared by every local process.

export function run(command: string, args: string[], as: RunAs, log?: (m: string) => void): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { ...as, env: { ...process.env, LC_ALL: "C", LANG: "C" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => {
      log?.(output);
      if (code === 0) resolveRun();
      else reject(new Error(`${command.split("/").pop()} exited with ${code}: ${output.trim().slice(-2000)}`));
    });
  });
}

export function readPostmaster(dataDir: string): { pid: number; port: number } | null {
  try {
    const lines = readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n");
    const pid = Number(lines[0]);
    return Number.isSafeInteger(pid) && pid > 0 ? { pid, port: Number(lines[3]) } : null;
  } catch {
    return null;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: any) {
    return error.code === "EPERM";
  }
}

/**
 * Whether `pid` is the server of this data directory, not a process that got
 * a dead server's pid: the postmaster works in its data directory, so its
 * cwd says; where that cannot be read, its command name must be postgres.
 */
function holdsDataDir(pid: number, dataDir: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dataDir);
  } catch {
    return isPostgres(pid);
  }
}

function isPostgres(pid: number): boolean {
  try {
    return /(^|\/)postgres(\0|$)/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "");
  } catch {
    const ps = spawnSync("ps", ["-p", String(pid), "-o", "comm="], { encoding: "utf8" });
    return ps.status === 0 && /(^|\/)postgres\s*$/.test(ps.stdout.trim());
  }
}

export async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function freePort(): Promise<number> {
  return listenable(0) as Promise<number>;
}

/** The port if nothing listens on it now (it was free a moment ago), else null. */
export function portFree(port: number): Promise<boolean> {
  return listenable(port).then((p) => p !== null);
}

function listenable(port: number): Promise<number | null> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.unref();
    server.on("error", () => resolvePort(null));
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : null;
      server.close(() => resolvePort(bound));
    });
  });
}

export const logFileOf = (dataDir: string) => join(dataDir, "server.log");

function logTail(dataDir: string): string {
  try {
    return readFileSync(logFileOf(dataDir), "utf8").trim().split("\n").slice(-12).join("\n");
  } catch {
    return "(no log written)";
  }
}

/** A start that failed: names the log file, shows its end, and says what to do. */
export function startFailure(dataDir: string, detail: string, fix: string): ConfigError {
  return new ConfigError(
    `The embedded PostgreSQL in ${dataDir} did not start: ${detail.trim().split("\n").slice(-3).join(" ")}\n` +
      `Its log is ${logFileOf(dataDir)}; it ends with:\n${logTail(dataDir)}\n${fix}`,
  );
}

/**
 * A postmaster.pid whose process is gone (kill -9, a crash, a reboot) or whose
 * pid now belongs to another program is removed, so the start below does not
 * refuse. A live postgres that does not answer is waited for (it may be
 * starting or recovering), then reported with its log.
 */
export async function clearStalePostmaster(dataDir: string, answersOn: (port: number) => Promise<boolean>): Promise<"cleared" | "running" | "none"> {
  const pm = readPostmaster(dataDir);
  if (!pm) return "none";
  if (!alive(pm.pid) || !holdsDataDir(pm.pid, dataDir)) {
    rmSync(join(dataDir, "postmaster.pid"), { force: true });
    return "cleared";
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (pm.port > 0 && (await answersOn(pm.port))) return "running";
    if (!alive(pm.pid)) return clearStalePostmaster(dataDir, answersOn);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw startFailure(dataDir, `postgres process ${pm.pid} holds the data directory but does not answer on port ${pm.port}`, `If it is stuck, stop it (kill ${pm.pid}, or \`durable dev stop\`) and run again.`);
}

/** Serializes starters across processes with an exclusive lock directory; a lock left by a dead process is taken over. */
export async function withStartLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (error: any) {
      if (error.code !== "EEXIST") throw error;
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lock, "pid"), "utf8"));
      } catch {
        /* being written */
      }
      if (Number.isFinite(holder) && holder > 0 && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new ConfigError(`Timed out waiting for the embedded PostgreSQL start lock ${lock}. If no durable process is running, delete that folder.`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
