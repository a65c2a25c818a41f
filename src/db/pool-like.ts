import pg from "pg";
import { InvalidOptionError } from "../errors.js";
import type { Logger } from "../logger.js";

/**
 * Whether `value` is a node-postgres pool. `instanceof pg.Pool` alone is not
 * enough: an app whose own `pg` is another copy than ours (another version
 * nested under this package, a bundle that inlined its own) passes a pool
 * of that copy's class, which would otherwise be taken for pool settings
 * and connect somewhere else entirely (localhost, the PG* variables). So
 * any object shaped like a pool counts: connect, query, end and on
 * functions, and the pool's own counters.
 */
export function isPgPool(value: unknown): value is pg.Pool {
  if (value instanceof pg.Pool) return true;
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.connect === "function" && typeof v.query === "function" && typeof v.end === "function" && typeof v.on === "function" &&
    typeof v.totalCount === "number" && typeof v.idleCount === "number";
}

/**
 * A single client (pg.Client, or a client checked out of a pool) where a
 * pool or settings belong: it has a pool's methods but one connection, so
 * it would serialize the runtime and die with its socket. Refused by name.
 */
export function refuseClient(option: string, value: unknown): void {
  if (value instanceof pg.Client) throw new InvalidOptionError(option, clientMessage);
  if (typeof value !== "object" || value === null || isPgPool(value)) return;
  const v = value as Record<string, unknown>;
  if (typeof v.connect === "function" && typeof v.query === "function" && typeof v.end === "function" && "connectionParameters" in v) {
    throw new InvalidOptionError(option, clientMessage);
  }
}

const clientMessage = "got a single pg.Client; pass a pg.Pool (new pg.Pool({ connectionString })), a connection string or pool settings. The runtime needs several connections at once.";

/**
 * A pg.Pool emits 'error' when an idle client dies (a server restart, a
 * dropped connection), and with no listener Node turns that into a crash.
 * Our own pool has a listener; one passed in without any would take the
 * worker down on the first restart although the runtime recovers from it.
 * So while the instance runs it listens and logs; the app's own listener,
 * when there is one, is left to decide. Returns the function that removes ours.
 */
export function guardPassedPool(pool: pg.Pool, logger: Logger): () => void {
  if (pool.listenerCount("error") > 0) return () => undefined;
  const listener = (error: Error) =>
    logger.warn("durable: an idle connection of the pg.Pool passed as `database` failed; the pool opens a new one. Add pool.on('error', …) to handle this yourself.", { error: String(error) });
  pool.on("error", listener);
  return () => void pool.off("error", listener);
}
