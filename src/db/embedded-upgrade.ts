import pg from "pg";
import { ConfigError } from "../errors.js";
import { newPassword, ROLE, scramVerifier, urlFor, writeHba, writeState, type ServerState } from "./embedded-credentials.js";
import type { RunAs } from "./embedded-place.js";
import { alive, answers, clearStalePostmaster, freePort, logFileOf, readPostmaster, run, startFailure } from "./embedded-process.js";

// Data directories made by earlier versions let any local user in (trust
// authentication). The first start of this version gives them a password:
// it starts the old server if it is not running (still trust, as before),
// sets the role's SCRAM verifier, replaces pg_hba.conf and reloads, so from
// then on only the password opens it. The port it ran on is kept.

export interface UpgradeSite {
  as: RunAs;
  dataDir: string;
  bins: { pg_ctl: string };
  log?: (message: string) => void;
}

const trustUrl = (port: number) => `postgres://${ROLE}@127.0.0.1:${port}/postgres`;

export async function upgradeTrust(site: UpgradeSite, options: { port?: number; settings?: Record<string, string> }): Promise<ServerState> {
  const fix = `Stop it (\`durable dev stop\`) and delete ${site.dataDir} to start a fresh development database (its jobs are local development data), or set DATABASE_URL.`;
  const port = await runningTrustServer(site, options, fix);
  const state: ServerState = { user: ROLE, password: newPassword(), port };
  const client = new pg.Client({ connectionString: trustUrl(port), connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    // The verifier is base64 and "$:", nothing to escape; the server never sees the password.
    await client.query(`alter role ${ROLE} password '${scramVerifier(state.password)}'`);
    writeState(site.dataDir, state);
    writeHba(site.dataDir, site.as);
    await client.query("select pg_reload_conf()");
  } catch (error) {
    throw new ConfigError(`The embedded PostgreSQL in ${site.dataDir} was created by an earlier durable-async without a password, and giving it one failed: ${(error as Error).message}. ${fix}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  if (!(await answers(urlFor(state)))) throw new ConfigError(`The embedded PostgreSQL in ${site.dataDir} got a password but does not accept it; see ${logFileOf(site.dataDir)}. ${fix}`);
  return state;
}

/** The port of the old server, started as it is if it was not running. */
async function runningTrustServer(site: UpgradeSite, options: { port?: number; settings?: Record<string, string> }, fix: string): Promise<number> {
  const pm = readPostmaster(site.dataDir);
  if (pm && alive(pm.pid) && pm.port > 0 && (await answers(trustUrl(pm.port)))) return pm.port;
  await clearStalePostmaster(site.dataDir, (p) => answers(trustUrl(p)));
  const port = options.port ?? (await freePort());
  const settings = { listen_addresses: "127.0.0.1", unix_socket_directories: "", ...options.settings };
  const flags = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v === "" ? "''" : v}`)].join(" ");
  try {
    await run(site.bins.pg_ctl, ["-D", site.dataDir, "-l", logFileOf(site.dataDir), "-w", "-t", "60", "-o", flags, "start"], site.as, site.log);
  } catch (error) {
    throw startFailure(site.dataDir, (error as Error).message, fix);
  }
  return port;
}
