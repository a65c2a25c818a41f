import pg from "pg";
import { ConfigError, InvalidOptionError } from "../errors.js";
import type { Logger } from "../logger.js";
import { suggest } from "../contract/index.js";
import { connectionStringProblem } from "./connection-string.js";
import { describeConnection } from "./describe.js";
import { ensureEmbeddedPostgres, type EmbeddedServer } from "./embedded.js";
import { isPgPool, refuseClient } from "./pool-like.js";

export { migrate, requireCurrentSchema, schemaVersion, latestVersion } from "./migrate.js";
export { validateSchemaName, quoteSchema, channels } from "./schema.js";
export { ensureEmbeddedPostgres, findEmbeddedPostgres, defaultDataDir, projectRoot, type EmbeddedServer } from "./embedded.js";
export { Notifier, decodeNotice, type Notices, type NoticeKind, type InsertNotice, type DoneNotice, type ControlNotice } from "./notifier.js";
export { statement, disableNamedStatements, namedStatementsEnabled } from "./statements.js";
export { planConnections, detectPooler, type ConnectionPlan } from "./pooler.js";
export { describeConnection } from "./describe.js";
export { isPgPool } from "./pool-like.js";

// Bigint job ids come back as strings (pg's default); counts we cast to int in SQL.

export interface ResolvedDatabase {
  pool: pg.Pool;
  /** We created the pool, so we end it on stop. */
  ownsPool: boolean;
  /** Connection settings for extra dedicated connections (LISTEN). */
  connection: pg.ClientConfig;
  embedded?: EmbeddedServer;
  /** Where the setting came from, for the start-up log line. */
  source: "pool" | "option" | "DATABASE_URL" | "embedded";
}

export type DatabaseOption = string | pg.Pool | pg.PoolConfig | undefined;

function checkedUrl(option: string, text: string): string {
  const problem = connectionStringProblem(text);
  if (problem) throw new InvalidOptionError(option, `${problem}.`);
  return text;
}

/** The start-up line that says which database this process uses, so a missing or mistyped setting shows. */
export function logDatabase(db: ResolvedDatabase, schema: string, logger: Logger): void {
  const where = describeConnection(db.connection);
  if (db.source === "embedded") {
    logger.info(
      `durable: no database given (no DATABASE_URL, no durable.start({ database })): using the embedded development PostgreSQL at ${where}, data in ${db.embedded!.dataDir}.${lookalikeHint()} Set DATABASE_URL to use your own server.`,
      { database: where, schema, dataDir: db.embedded!.dataDir, source: db.source },
    );
    return;
  }
  const from = { pool: "the pg.Pool passed in", option: "durable.start({ database })", DATABASE_URL: "DATABASE_URL" }[db.source];
  logger.info(`durable: database ${where} (from ${from}), schema "${schema}"`, { database: where, schema, source: db.source });
}

/** An environment variable that looks like a misspelt DATABASE_URL (DATABSE_URL, DATABASE_URI…), named in the fallback line. */
function lookalikeHint(): string {
  const names = Object.keys(process.env).filter((name) => name !== "DATABASE_URL" && /DATA|DB/i.test(name) && process.env[name]);
  const near = names.find((name) => suggest(name, ["DATABASE_URL"]) !== undefined);
  return near ? ` ${near} is set: did you mean DATABASE_URL?` : "";
}

/**
 * Pool settings whose connection string sits under a key pg does not read
 * (`url`, `uri`, `databaseUrl`…) would connect to the PG* defaults
 * (localhost) without a word: refuse them, naming the key.
 */
function checkedSettings(settings: pg.PoolConfig): pg.PoolConfig {
  for (const [key, value] of Object.entries(settings)) {
    if (key !== "connectionString" && typeof value === "string" && /^postgres(ql)?:\/\//i.test(value)) {
      throw new InvalidOptionError(`database.${key}`, `pg reads a connection string only from \`connectionString\`; pass { connectionString: "…" }, or the string itself as \`database\`.`);
    }
  }
  if (typeof settings.connectionString === "string") checkedUrl("database.connectionString", settings.connectionString);
  return settings;
}

export async function resolveDatabase(database: DatabaseOption, poolSize: number): Promise<ResolvedDatabase> {
  refuseClient("database", database);
  if (isPgPool(database)) {
    return { pool: database, ownsPool: false, connection: (database as any).options as pg.ClientConfig, source: "pool" };
  }
  if (database !== undefined && typeof database !== "string" && (typeof database !== "object" || database === null)) {
    throw new ConfigError(`Invalid option \`database\`: expected a connection string, a pg.Pool or pg pool settings, got ${typeof database}.`);
  }
  let config: pg.PoolConfig;
  let embedded: EmbeddedServer | undefined;
  let source: ResolvedDatabase["source"] = "option";
  if (typeof database === "string") config = { connectionString: checkedUrl("database", database) };
  else if (database) config = checkedSettings(database);
  else if (process.env.DATABASE_URL) (config = { connectionString: checkedUrl("DATABASE_URL", process.env.DATABASE_URL) }), (source = "DATABASE_URL");
  else if (process.env.NODE_ENV === "production") {
    throw new ConfigError(
      "No database configured and NODE_ENV=production: set DATABASE_URL or pass durable.start({ database }). Production never falls back to the embedded development database.",
    );
  } else {
    embedded = await ensureEmbeddedPostgres();
    config = { connectionString: embedded.url };
    source = "embedded";
  }
  // A half-open connection (a peer or NAT that vanished without a FIN) never
  // errors by itself: without these bounds a query or a connect on it waits
  // forever, holding a pool slot and leaving acks and heartbeats stuck. A
  // timed-out client is discarded by the pool. Pool settings passed in win.
  const pool = new pg.Pool({ max: poolSize, connectionTimeoutMillis: 10_000, query_timeout: 30_000, keepAlive: true, ...config });
  // An idle client dying (server restart, network blip) must not crash the process.
  pool.on("error", () => undefined);
  return { pool, ownsPool: true, connection: config, embedded, source };
}
