import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { closeSync, constants, fchmodSync, lchownSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import type { RunAs } from "./embedded-place.js";

// The embedded server's credentials. Each data directory gets its own random
// password for the `postgres` role; the server only accepts SCRAM logins over
// TCP from 127.0.0.1 (pg_hba.conf below), so another local user cannot get in
// without the password, which lives in a file only the data directory's
// owner can read (mode 0600). The server itself only ever sees the SCRAM
// verifier, never the password.

export const ROLE = "postgres";

/** What the data directory remembers about its server: who logs in, and the port printed URLs use. */
export interface ServerState {
  user: string;
  password: string;
  port: number;
}

export const stateFileOf = (dataDir: string) => join(dataDir, "durable-credentials.json");

export function readState(dataDir: string): ServerState | null {
  return readStateFile(stateFileOf(dataDir));
}

export function readStateFile(path: string): ServerState | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error: any) {
    if (error.code === "ENOENT") return null;
    throw new ConfigError(`Cannot read the embedded PostgreSQL credentials ${path} (${error.code ?? error.message}). Run as the user who owns that data directory, or set DATABASE_URL.`);
  }
  let state: ServerState | null = null;
  try {
    state = JSON.parse(text) as ServerState;
  } catch {
    /* reported below */
  }
  if (!state || typeof state.password !== "string" || typeof state.user !== "string" || !Number.isInteger(state.port)) {
    throw new ConfigError(`${path} is not what durable-async wrote. Restore it, or delete the data directory beside it to start a fresh development database.`);
  }
  return state;
}

export function writeState(dataDir: string, state: ServerState): void {
  writeStateFile(stateFileOf(dataDir), state);
}

/** Writes the file owner-only, never through a symlink planted at its name. */
export function writeStateFile(path: string, state: ServerState): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, JSON.stringify(state) + "\n");
  } finally {
    closeSync(fd);
  }
}

export function newPassword(): string {
  return randomBytes(24).toString("base64url");
}

/** The SCRAM-SHA-256 verifier Postgres stores for a password (RFC 5802, 4096 iterations as Postgres uses). */
export function scramVerifier(password: string): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, 4096, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$4096:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

export const HBA = `# Written by durable-async: SCRAM password logins over TCP from this machine only.
# Nothing else gets in: no trust, no peer, no Unix socket, no other address.
host all all 127.0.0.1/32 scram-sha-256
`;

export function writeHba(dataDir: string, as: RunAs): void {
  const path = join(dataDir, "pg_hba.conf");
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, HBA);
  } finally {
    closeSync(fd);
  }
  if (as.uid !== undefined) lchownSync(path, as.uid, as.gid!);
}

/** A password file for initdb holding the verifier, readable by the server's user only; removed by `done()`. */
export function initdbPasswordFile(verifier: string, as: RunAs): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "durable-async-init-"));
  const path = join(dir, "pw");
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  writeSync(fd, verifier + "\n");
  closeSync(fd);
  if (as.uid !== undefined) {
    lchownSync(dir, as.uid, as.gid!);
    lchownSync(path, as.uid, as.gid!);
  }
  return { path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

export function urlFor(state: ServerState, port = state.port): string {
  return `postgres://${encodeURIComponent(state.user)}:${encodeURIComponent(state.password)}@127.0.0.1:${port}/postgres`;
}
