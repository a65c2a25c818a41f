import pg from "pg";
import { Admin } from "../admin/index.js";
import { isPgPool, resolveDatabase, schemaVersion } from "../db/index.js";
import { validateSchemaName } from "../db/schema.js";
import { ConfigError } from "../errors.js";
import type { DurableInstance } from "../instance.js";

/** Where the dashboard reads: an instance, or its own pool on a database and schema. */
export interface AdminSourceOptions {
  instance?: DurableInstance;
  database?: string | pg.Pool;
  schema?: string;
}

/** Connects on first use (and again after a failure); close() ends only a pool it opened itself. */
export function adminSource(options: AdminSourceOptions): { get(): Promise<Admin>; close(): Promise<void> } {
  let ownedPool: pg.Pool | null = null;
  let pending: Promise<Admin> | null = null;
  const connect = async (): Promise<Admin> => {
    if (options.instance) {
      await options.instance.start();
      return new Admin(options.instance.pool, options.instance.config.schema);
    }
    const schema = validateSchemaName(options.schema ?? process.env.DURABLE_SCHEMA ?? "durable");
    const pool = isPgPool(options.database) ? options.database : (ownedPool = (await resolveDatabase(options.database, 4)).pool);
    // The dashboard never migrates: it may run with a read-only role, and a wrong schema is a typo to report.
    if ((await schemaVersion(pool, schema)) === 0) {
      throw new ConfigError(`Schema "${schema}" has no durable tables. Run \`durable migrate --schema ${schema}\` or pass the schema your workers use.`);
    }
    return new Admin(pool, schema);
  };
  return {
    get: () =>
      (pending ??= connect().catch(async (error) => {
        pending = null;
        await ownedPool?.end().catch(() => undefined);
        ownedPool = null;
        throw error;
      })),
    close: async () => {
      await ownedPool?.end();
      ownedPool = null;
    },
  };
}
