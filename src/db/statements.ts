import type pg from "pg";

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
