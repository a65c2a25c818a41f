// A connection string is checked before pg sees it: pg resolves anything it
// cannot parse against a dummy host ("notaurl" becomes a lookup of the host
// "base"), so a typo would surface as a DNS or socket error far from its cause.
// The message never repeats the string itself, which may hold a password.

const SCHEMES = /^(postgres|postgresql|socket):/i;
const EXAMPLE = "postgres://user:password@host:5432/database";

/** Why `text` is not a PostgreSQL connection string, or null when it is one. */
export function connectionStringProblem(text: string): string | null {
  if (text.trim() === "") return `is empty; expected a URL like ${EXAMPLE}`;
  if (text.includes("\u0000")) return "contains a NUL character";
  // A Unix socket directory, optionally followed by a database name (pg's own short form).
  if (text.startsWith("/")) return null;
  if (!SCHEMES.test(text)) return `is not a PostgreSQL connection URL (it must start with postgres://, postgresql:// or socket:); expected a URL like ${EXAMPLE}`;
  // The same tolerance as pg: spaces may be unencoded, and the host may be empty (a local socket).
  const encoded = / |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(text) ? encodeURI(text).replace(/%25(\d\d)/g, "%$1") : text;
  for (const candidate of [encoded, encoded.replace("@/", "@___DUMMY___/")]) {
    try {
      new URL(candidate);
      return null;
    } catch {
      /* try the next form */
    }
  }
  return `cannot be parsed as a URL; percent-encode special characters in the user name and password (@ → %40, # → %23, / → %2F) and check the host and port, as in ${EXAMPLE}`;
}
