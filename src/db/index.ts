import pg from "pg";
import { ConfigError, InvalidOptionError } from "../errors.js";
import { connectionStringProblem } from "./connection-string.js";
import { ensureEmbeddedPostgres, type EmbeddedServer } from "./embedded.js";

export { migrate, requireCurrentSchema, schemaVersion, latestVersion } from "./migrate.js";
export { validateSchemaName, quoteSchema, channels } from "./schema.js";
export { ensureEmbeddedPostgres, findEmbeddedPostgres, defaultDataDir, projectRoot, type EmbeddedServer } from "./embedded.js";

// Bigint job ids come back as strings (pg's default); counts we cast to int in SQL.

export interface ResolvedDatabase {
  pool: pg.Pool;
  /** We created the pool, so we end it on stop. */
  ownsPool: boolean;
  /** Connection settings for extra dedicated connections (LISTEN). */
  connection: pg.ClientConfig;
  embedded?: EmbeddedServer;
}

export type DatabaseOption = string | pg.Pool | pg.PoolConfig | undefined;

function checkedUrl(option: string, text: string): string {
  const problem = connectionStringProblem(text);
  if (problem) throw new InvalidOptionError(option, `${problem}.`);
  return text;
}

export async function resolveDatabase(database: DatabaseOption, poolSize: number): Promise<ResolvedDatabase> {
  if (database instanceof pg.Pool) {
    return { pool: database, ownsPool: false, connection: (database as any).options as pg.ClientConfig };
  }
  if (database !== undefined && typeof database !== "string" && (typeof database !== "object" || database === null)) {
    throw new ConfigError(`Invalid option \`database\`: expected a connection string, a pg.Pool or pg pool settings, got ${typeof database}.`);
  }
  let config: pg.PoolConfig;
  let embedded: EmbeddedServer | undefined;
  if (typeof database === "string") config = { connectionString: checkedUrl("database", database) };
  else if (database) config = database;
  else if (process.env.DATABASE_URL) config = { connectionString: checkedUrl("DATABASE_URL", process.env.DATABASE_URL) };
  else if (process.env.NODE_ENV === "production") {
    throw new ConfigError(
      "No database configured and NODE_ENV=production: set DATABASE_URL or pass durable.start({ database }). Production never falls back to the embedded development database.",
    );
  } else {
    embedded = await ensureEmbeddedPostgres();
    config = { connectionString: embedded.url };
  }
  // A half-open connection (a peer or NAT that vanished without a FIN) never
  // errors by itself: without these bounds a query or a connect on it waits
  // forever, holding a pool slot and leaving acks and heartbeats stuck. A
  // timed-out client is discarded by the pool. Pool settings passed in win.
  const pool = new pg.Pool({ max: poolSize, connectionTimeoutMillis: 10_000, query_timeout: 30_000, keepAlive: true, ...config });
  // An idle client dying (server restart, network blip) must not crash the process.
  pool.on("error", () => undefined);
  return { pool, ownsPool: true, connection: config, embedded };
}
