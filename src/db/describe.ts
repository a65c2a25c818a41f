import type pg from "pg";
import { redactUrl } from "../logger.js";

/** Where a connection goes, for log lines and errors: a URL without its password. */
export function describeConnection(config: pg.ClientConfig | string): string {
  if (typeof config === "string") return redactUrl(config);
  if (config.connectionString) return redactUrl(config.connectionString);
  const user = config.user ? `${encodeURIComponent(String(config.user))}${config.password ? ":***" : ""}@` : "";
  return `postgres://${user}${config.host ?? "localhost"}:${config.port ?? 5432}/${config.database ?? ""}`;
}
