import type pg from "pg";

/** Anything with query(): a pool client, or a client the caller already holds. */
export interface TransactionClient {
  query: (...args: any[]) => any;
}

/**
 * Runs `work` in a transaction on `client`: commit when it resolves, roll
 * back when it throws. A failing rollback is swallowed so the caller sees
 * the error that mattered (the connection is usually what broke).
 */
export async function inTransaction<C extends TransactionClient, T>(client: C, work: (client: C) => Promise<T>): Promise<T> {
  await client.query("begin");
  try {
    const result = await work(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

/**
 * Checks a client out of the pool for `work`, and releases it. The pool
 * stops listening for a client's errors while it is checked out, and pg
 * emits a connection that drops (a server restart, pg_terminate_backend) as
 * an 'error' event on the client, even when a query was running and fails
 * with it: with no listener, that event is an uncaught exception that ends
 * the process. The listener here keeps it. A client whose work failed is
 * discarded, as pool.query does: its connection may be about to close (the
 * server's FATAL error arrives before the close), or still busy with a
 * statement that timed out on our side.
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  const onError = (error: Error) => {
    failure ??= error;
  };
  client.on("error", onError);
  try {
    return await work(client);
  } catch (error) {
    failure ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // release() puts the pool's own listener back in the same tick: no gap without one.
    client.removeListener("error", onError);
    client.release(failure);
  }
}

/** Checks a client out of the pool, runs `work` in a transaction on it, and releases it. */
export function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, (client) => inTransaction(client, work));
}

/**
 * One statement with JIT off, in a transaction of its own (`set local`
 * lasts until its end). For statements the planner estimates per key or per
 * node over big tables: the estimate passes `jit_above_cost` while the
 * statement runs in milliseconds, and a JIT-capable server (the Debian and
 * Ubuntu packages, most clouds) would compile it on every call for hundreds.
 */
export function queryWithoutJit(pool: pg.Pool, text: string, values?: unknown[]): Promise<pg.QueryResult> {
  return withTransaction(pool, async (client) => {
    await client.query("set local jit = off");
    return client.query(text, values);
  });
}
