import { spawnSync } from "node:child_process";
import { cpSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { userInfo, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { ConfigError } from "../errors.js";

// Where the embedded server's files go, and as whom it runs. Postgres refuses
// to run as root, so as root it runs as a `postgres` system user. When that
// user cannot reach the project (a project under /root, which is 0700), the
// data directory and a copy of the binaries go to a private directory made
// like mkdtemp: a fresh random name under the temp dir, created by us, never
// a predictable path another local user could plant a symlink at. A pointer
// file next to the project's data directory (readable by its owner only)
// lets every process of the project find that directory again; it is used
// only while the directory still is one we made. Ownership changes use
// lchown on paths checked with lstat, so a symlink is never followed.

export interface RunAs {
  uid?: number;
  gid?: number;
}

export interface Binaries {
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

/** As root: the `postgres` user, created if missing. Otherwise the current user (no switch). */
export function postgresUser(): RunAs {
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

/** Refuses a path that is a symlink or not a directory; true when it exists. */
function realDirectory(path: string): boolean {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error: any) {
    if (error.code === "ENOENT") return false;
    throw error;
  }
  if (stat.isSymbolicLink() || !stat.isDirectory()) {
    throw new ConfigError(`${path} is ${stat.isSymbolicLink() ? "a symbolic link" : "not a directory"}; the embedded PostgreSQL keeps its data only in a real directory. Remove it, or set DURABLE_DATA_DIR elsewhere.`);
  }
  return true;
}

/** Creates `dir` (parents as the current user) and gives the leaf to the server's user, without following a symlink. */
export function ownedDirectory(dir: string, as: RunAs): void {
  mkdirSync(dirname(dir), { recursive: true });
  if (!realDirectory(dir)) mkdirSync(dir, { mode: 0o700 });
  realDirectory(dir);
  if (as.uid !== undefined) lchownSync(dir, as.uid, as.gid!);
}

/**
 * Our private directory for `anchor` (a data directory path the server's
 * user cannot reach); null when there is none yet and `create` is false.
 * Callers that create hold the start lock, so two processes make one.
 */
function privateDirectory(anchor: string, as: RunAs, create: boolean): string | null {
  const pointer = join(dirname(anchor), `${basename(anchor)}.location`);
  const known = existsSync(pointer) ? readFileSync(pointer, "utf8").trim() : "";
  if (known && isOurs(known, as)) return known;
  if (!create) return null;
  const dir = mkdtempSync(join(tmpdir(), "durable-async-"));
  if (as.uid !== undefined) lchownSync(dir, as.uid, as.gid!);
  // Written aside and renamed: a reader never sees half a path.
  writeFileSync(`${pointer}.${process.pid}`, dir, { mode: 0o600 });
  renameSync(`${pointer}.${process.pid}`, pointer);
  return dir;
}

/** A directory we made: a real directory (no symlink) named like ours, owned by us or the server's user, writable by no one else. */
function isOurs(path: string, as: RunAs): boolean {
  try {
    const stat = lstatSync(path);
    const owners = [userInfo().uid, as.uid].filter((u) => u !== undefined);
    return stat.isDirectory() && !stat.isSymbolicLink() && /^durable-async-[A-Za-z0-9]{6}$/.test(basename(path)) && dirname(path) === tmpdir() &&
      owners.includes(stat.uid) && (stat.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/**
 * Where the data directory and the binaries live for this user (see the top
 * of this file); null when they would live in a private directory that does
 * not exist yet and `create` is false.
 */
export function placeForUser(as: RunAs, dataDir: string, bins: Binaries, create: boolean): { dataDir: string; bins: Binaries } | null {
  if (as.uid === undefined) return { dataDir, bins };
  mkdirSync(dirname(dataDir), { recursive: true });
  const dataReachable = canAccess(as, dirname(dataDir), "-x");
  const binsReachable = canAccess(as, bins.postgres, "-x");
  if (dataReachable && binsReachable) return { dataDir, bins };
  const dir = privateDirectory(dataDir, as, create);
  if (dir === null) return null;
  const place = { dataDir: dataReachable ? dataDir : join(dir, "pg"), bins };
  if (!binsReachable) {
    const copy = join(dir, "pgbin");
    if (!existsSync(join(copy, "bin", "postgres"))) cpSync(dirname(dirname(bins.postgres)), copy, { recursive: true, verbatimSymlinks: true });
    place.bins = { pg_ctl: join(copy, "bin", "pg_ctl"), initdb: join(copy, "bin", "initdb"), postgres: join(copy, "bin", "postgres") };
  }
  return place;
}
