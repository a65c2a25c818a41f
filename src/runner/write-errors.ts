// Telling a database that is away from a row it refuses. Errors with a
// SQLSTATE of these classes are about the server or the session, not the
// row: connection (08), transaction rollback such as deadlocks (40),
// resources (53), operator intervention such as statement timeouts and
// restarts (57), lock not available (55), system errors (58). Errors
// without a SQLSTATE are network errors, pool timeouts and client-side
// query timeouts. Everything else (data exceptions 22, constraints 23, a
// trigger's RAISE P0001, limits 54, ...) is the row's.

const TRANSIENT_CLASSES = new Set(["08", "40", "53", "55", "57", "58"]);
const SQLSTATE = /^[0-9A-Z]{5}$/;

export function sqlState(error: unknown): string | null {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" && SQLSTATE.test(code) ? code : null;
}

export function isTransientWriteError(error: unknown): boolean {
  const code = sqlState(error);
  return code === null || TRANSIENT_CLASSES.has(code.slice(0, 2));
}

/** "message (SQLSTATE 22P05)", for logs and recorded errors. */
export function describeWriteError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = sqlState(error);
  return code ? `${message} (SQLSTATE ${code})` : message;
}
