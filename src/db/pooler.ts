import type pg from "pg";
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
}

/**
 * Decides, once at start, how this node talks to the database: named
 * statements or not, LISTEN on which connection or polling alone; and says
 * so in one log line, so an operator can tell which mode a node runs in.
 */
export async function planConnections(input: PlanInput): Promise<ConnectionPlan> {
  const pooled = input.pooler ?? (await detectPooler(input.pool));
  if (!(input.preparedStatements ?? !pooled)) disableNamedStatements(input.pool);
  const listenConfig = typeof input.listenDatabase === "string" ? { connectionString: input.listenDatabase } : input.listenDatabase;
  const listen = !input.notifications ? null : listenConfig ?? (pooled ? null : input.connection);
  const statements = input.preparedStatements ?? !pooled ? "named prepared statements" : "no named prepared statements";
  const poll = `polling every ${formatDuration(input.pollIntervalMs)}`;
  const how = pooled ? `behind a transaction pooler${input.pooler === undefined ? " (detected)" : ""}` : "direct connection";
  let wakeups: string;
  if (!input.notifications) wakeups = `notifications off: ${poll}`;
  else if (listen === null) wakeups = `no LISTEN through the pooler and no listenDatabase / DURABLE_LISTEN_URL: ${poll} alone`;
  else if (listenConfig) wakeups = `LISTEN on ${describeConnection(listenConfig)} (listenDatabase), ${poll} as the fallback`;
  else wakeups = `LISTEN on the database, ${poll} as the fallback`;
  input.logger.info(`durable: ${how}, ${statements}; ${wakeups}`, { pooled, listen: listen ? describeConnection(listen) : null });
  return { pooled, listen };
}
