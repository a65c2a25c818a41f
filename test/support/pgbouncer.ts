import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./ports.js";

// A PgBouncer of the test's own, in transaction pooling mode, in front of the
// test database (the embedded server or DATABASE_URL's). Its server
// connections log in as a role made for it, so the server side can count
// exactly how many connections the pooler holds.

const CANDIDATES = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"];

/** The pgbouncer binary, or null when it is not installed (Debian: apt-get install pgbouncer). */
export function pgbouncerBinary(): string | null {
  for (const path of CANDIDATES) if (existsSync(path)) return path;
  const which = spawnSync("sh", ["-c", "command -v pgbouncer"], { encoding: "utf8" });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : null;
}

export const PGBOUNCER_MISSING = "pgbouncer is not installed (apt-get install pgbouncer); the PgBouncer tests are skipped";

export interface Bouncer {
  /** Connection string through the pooler. */
  url: string;
  /** The role the pooler's server connections use (count them with serverConnections()). */
  role: string;
  poolSize: number;
  /** Server backends the pooler holds right now, counted on the server. */
  serverConnections(): Promise<number>;
  /** Client connections the pooler serves right now (its admin console's SHOW POOLS). */
  clientConnections(): Promise<number>;
  stop(): Promise<void>;
}

/** PgBouncer refuses to run as root: then it runs as the postgres (or nobody) user. */
function runAsUser(): string | null {
  if (userInfo().uid !== 0) return null;
  return spawnSync("id", ["-u", "postgres"]).status === 0 ? "postgres" : "nobody";
}

export async function startPgbouncer(targetUrl: string, options: { poolSize?: number; maxClients?: number } = {}): Promise<Bouncer> {
  const binary = pgbouncerBinary();
  if (!binary) throw new Error(PGBOUNCER_MISSING);
  const poolSize = options.poolSize ?? 10;
  const target = new URL(targetUrl);
  const role = `durable_pgb_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  const admin = new pg.Client({ connectionString: targetUrl });
  await admin.connect();
  await admin.query(`create role ${role} login superuser password '${password}'`);
  const dir = mkdtempSync(join(tmpdir(), "durable-pgbouncer-"));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const database = decodeURIComponent(target.pathname.slice(1)) || "postgres";
  writeFileSync(join(dir, "pgbouncer.ini"), [
    "[databases]",
    `durable = host=${target.hostname} port=${target.port || 5432} dbname=${database} user=${role} password=${password}`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = any",
    `admin_users = ${role}`,
    "pool_mode = transaction",
    `default_pool_size = ${poolSize}`,
    "reserve_pool_size = 0",
    `max_client_conn = ${options.maxClients ?? 1000}`,
    // pg may send these; PgBouncer would refuse the client otherwise.
    "ignore_startup_parameters = extra_float_digits,options",
    `logfile = ${join(dir, "pgbouncer.log")}`,
    "",
  ].join("\n"));
  chmodSync(join(dir, "pgbouncer.ini"), 0o644);
  const user = runAsUser();
  const child: ChildProcess = spawn(binary, [...(user ? ["-u", user] : []), join(dir, "pgbouncer.ini")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const url = `postgres://${role}@127.0.0.1:${port}/durable`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`, [role]).catch(() => undefined);
    await admin.query(`drop role if exists ${role}`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(url, child, () => stderr + readLog(dir));
  } catch (error) {
    await stop();
    throw error;
  }
  const serverConnections = async () => {
    const { rows } = await admin.query(`select count(*)::int as n from pg_stat_activity where usename = $1`, [role]);
    return rows[0].n as number;
  };
  const console = new pg.Client({ connectionString: `postgres://${role}@127.0.0.1:${port}/pgbouncer` });
  await console.connect();
  const clientConnections = async () => {
    const { rows } = await console.query({ text: "show pools", queryMode: "simple" } as pg.QueryConfig);
    return rows.filter((r) => r.database === "durable").reduce((n, r) => n + Number(r.cl_active) + Number(r.cl_waiting), 0);
  };
  const stopAll = async () => {
    await console.end().catch(() => undefined);
    await stop();
  };
  return { url, role, poolSize, serverConnections, clientConnections, stop: stopAll };
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, "pgbouncer.log"), "utf8");
  } catch {
    return "";
  }
}

async function waitUntilAnswering(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}: ${output().slice(-2000)}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query("select 1");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`pgbouncer did not answer within 30 s: ${(error as Error).message}\n${output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
