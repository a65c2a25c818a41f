import { ConfigError } from "../errors.js";

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The schema name is the only identifier we interpolate into SQL, so it is
 * held to a strict lowercase pattern and then double-quoted.
 */
export function validateSchemaName(name: unknown): string {
  if (typeof name === "string" && IDENTIFIER.test(name)) return name;
  const text = typeof name === "string" ? name : String(name);
  const fixed = text.toLowerCase().replace(/[^a-z0-9_]/g, "_").replace(/^([0-9])/, "_$1").slice(0, 63);
  const hint = fixed && IDENTIFIER.test(fixed) ? ` Try "${fixed}".` : "";
  throw new ConfigError(
    `Invalid schema name ${JSON.stringify(name)}: use lowercase letters, digits and "_", starting with a letter or "_", at most 63 characters.${hint}`,
  );
}

export function quoteSchema(name: string): string {
  return `"${validateSchemaName(name)}"`;
}

/** Notification channel names, namespaced by schema so two schemas never cross-talk. */
export function channels(schema: string) {
  return {
    insert: `${schema}.insert`,
    done: `${schema}.done`,
    control: `${schema}.control`,
  };
}
