import pg from "pg";
import { ConfigError } from "../errors.js";
import type { Logger } from "../logger.js";
import { formatDuration } from "../config/duration.js";
import { describeConnection } from "./describe.js";
import { disableNamedStatements } from "./statements.js";
import { withClient } from "./tx.js";

export interface ConnectionPlan {
  /** The pool goes through a transaction-mode pooler. */
  pooled: boolean;
  /** Where LISTEN runs; null: polling alone. */
  listen: pg.ClientConfig | null;
}

/**
 * Is there a pooler between us and the server? A pooler answers the startup
 * with a cancel key of its own making, so the process id it announces is not
 * the server process the queries reach; a direct connection's is.
 */
export async function detectPooler(pool: pg.Pool): Promise<boolean> {
  return withClient(pool, async (client) => {
    const { rows } = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
    const announced = (client as unknown as { processID?: unknown }).processID;
    return typeof announced === "number" && announced !== rows[0]!.pid;
  });
}

export interface PlanInput {
  pool: pg.Pool;
  connection: pg.ClientConfig;
  pooler: boolean | undefined;
  preparedStatements: boolean | undefined;
  listenDatabase: string | pg.ClientConfig | undefined;
  notifications: boolean;
  pollIntervalMs: number;
  logger: Logger;
  /** Where listenDatabase came from, for messages. */
  listenSource?: string;
}

/**
 * Connects once to the LISTEN database: a failure becomes an error naming the setting (not a raw
 * ECONNREFUSED stack), and a pooler there is detected as on the main pool. True: it is a pooler.
 */
async function listenIsPooled(config: pg.ClientConfig, source: string): Promise<boolean> {
  const client = new pg.Client({ connectionTimeoutMillis: 10_000, ...config });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new ConfigError(
      `cannot connect to the LISTEN database ${describeConnection(config)} (${source}): ${(error as Error).message}. Check ${source}: it must be a direct connection to the server. Or leave it unset: nodes then poll (or LISTEN on the main database when it is direct).`,
    );
  }
  try {
    const { rows } = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
    const announced = (client as unknown as { processID?: unknown }).processID;
    return typeof announced === "number" && announced !== rows[0]!.pid;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Decides, once at start, how this node talks to the database: named
 * statements or not, LISTEN on which connection or polling alone; and says
 * so in one log line, so an operator can tell which mode a node runs in.
 */
export async function planConnections(input: PlanInput): Promise<ConnectionPlan> {
  const pooled = input.pooler ?? (await detectPooler(input.pool));
  if (!(input.preparedStatements ?? !pooled)) disableNamedStatements(input.pool);
  let listenConfig = typeof input.listenDatabase === "string" ? { connectionString: input.listenDatabase } : input.listenDatabase;
  const source = input.listenSource ?? "listenDatabase";
  let ignored = false;
  if (listenConfig && input.notifications && (await listenIsPooled(listenConfig, source))) {
    // LISTEN through a transaction pooler registers on a server session the pooler hands to others: no wake-up ever arrives.
    input.logger.warn(
      `durable: ${source} (${describeConnection(listenConfig)}) goes through a transaction pooler, where LISTEN receives no notifications; ignoring it. Point ${source} at the server itself (not the pooler's port).`,
      { listen: describeConnection(listenConfig) },
    );
    listenConfig = undefined;
    ignored = true;
  }
  const listen = !input.notifications ? null : listenConfig ?? (pooled ? null : input.connection);
  const statements = input.preparedStatements ?? !pooled ? "named prepared statements" : "no named prepared statements";
  const poll = `polling every ${formatDuration(input.pollIntervalMs)}`;
  const how = pooled ? `behind a transaction pooler${input.pooler === undefined ? " (detected)" : ""}` : "direct connection";
  let wakeups: string;
  if (!input.notifications) wakeups = `notifications off: ${poll}`;
  else if (listen === null) wakeups = `no LISTEN through the pooler and ${ignored ? `${source} is a pooler too` : "no listenDatabase / DURABLE_LISTEN_URL"}: ${poll} alone`;
  else if (listenConfig) wakeups = `LISTEN on ${describeConnection(listenConfig)} (${source}), ${poll} as the fallback`;
  else wakeups = `LISTEN on the database, ${poll} as the fallback`;
  input.logger.info(`durable: ${how}, ${statements}; ${wakeups}`, { pooled, listen: listen ? describeConnection(listen) : null });
  return { pooled, listen };
}
