import type pg from "pg";
import { withClient } from "./tx.js";

// A named prepared statement lives in one server session. A transaction-mode
// pooler (PgBouncer, Supavisor, RDS Proxy) hands each transaction to any of
// its server connections, so a name prepared on one is missing on the next
// ("prepared statement … does not exist") or prepared twice on a connection
// another client used ("… already exists"): every claim or completion fails.
const unnamed = new WeakSet<object>();

/** From now on, `statement()` for this pool leaves the name out (parsed and planned per call). */
export function disableNamedStatements(pool: pg.Pool): void {
  unnamed.add(pool);
}

export function namedStatementsEnabled(pool: pg.Pool): boolean {
  return !unnamed.has(pool);
}

/** A query config for a hot statement: named (prepared once per connection) unless the pool says otherwise. */
export function statement(pool: pg.Pool, name: string, text: string, values: unknown[]): pg.QueryConfig {
  return unnamed.has(pool) ? { text, values } : { name, text, values };
}

/**
 * A named statement's generic plan is made once per connection, sized to the
 * tables as they were then. One made while jobs_active was nearly empty
 * scans the table whole (a sequential scan is cheapest for a few rows), and
 * keeps doing so after a burst has put a million jobs there, until
 * autovacuum analyzes the table (up to a minute or so). A hot statement that
 * takes longer than this makes its connection drop its cached plans, so the
 * next call plans against the tables as they are now.
 */
export const replanning = { slowMs: 5, everyMs: 10_000 };
const replannedAt = new WeakMap<object, number>();

/** Runs a hot statement (named when the pool allows); a slow run makes its connection re-plan (DISCARD PLANS), at most once per `replanning.everyMs`. */
export async function hotQuery(pool: pg.Pool, name: string, text: string, values: unknown[]): Promise<pg.QueryResult> {
  if (unnamed.has(pool)) return pool.query({ text, values });
  // withClient: a connection that drops mid-statement must fail this call, not the process; a failed client is not reused.
  return withClient(pool, async (client) => {
    const started = performance.now();
    const result = await client.query({ name, text, values });
    const now = performance.now();
    if (now - started >= replanning.slowMs && now - (replannedAt.get(client) ?? -Infinity) >= replanning.everyMs) {
      replannedAt.set(client, now);
      // The statement's own result stands whatever happens here (a claim has committed): a
      // failed re-plan only means the next call plans as before; a dropped connection is
      // still seen by withClient's error listener, which keeps the client out of the pool.
      await client.query("discard plans").catch(() => undefined);
    }
    return result;
  });
}
