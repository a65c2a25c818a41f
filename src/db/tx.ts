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

/** Checks a client out of the pool, runs `work` in a transaction on it, and releases it. */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await inTransaction(client, work);
  } finally {
    client.release();
  }
}
