import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { MigrationPermissionError, SchemaBehindError, SchemaNewerError } from "../errors.js";
import { quoteSchema } from "./schema.js";
import { withTransaction } from "./tx.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Walks up from this file to the package root, which holds migrations/ in both src and dist layouts. */
function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      readdirSync(join(dir, "migrations"));
      return join(dir, "migrations");
    } catch {
      dir = dirname(dir);
    }
  }
  throw new Error("durable-async: cannot find the migrations/ folder next to the package; reinstall the package.");
}

let cached: Migration[] | undefined;
export function loadMigrations(): Migration[] {
  if (cached) return cached;
  const dir = migrationsDir();
  cached = readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 4)), name: file.slice(5, -4), sql: readFileSync(join(dir, file), "utf8") }));
  return cached;
}

export function latestVersion(): number {
  const all = loadMigrations();
  return all.length ? all[all.length - 1]!.version : 0;
}

/**
 * Applies pending migrations in one transaction under an advisory lock keyed
 * by schema, so concurrent starters serialize and the second finds nothing to
 * do. Returns the versions applied.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<number[]> {
  // A role without CREATE (least privilege) can start against a schema that
  // is already current: read the version first, and take no lock and run no
  // DDL when there is nothing to do.
  const current = await schemaVersion(pool, schema);
  const latest = latestVersion();
  if (current > latest) throw new SchemaNewerError(schema, current, latest);
  if (current === latest) return [];
  try {
    return await migrateWithRetries(pool, schema);
  } catch (error) {
    if ((error as { code?: string }).code === INSUFFICIENT_PRIVILEGE) throw new MigrationPermissionError(schema, current, latest, error);
    throw error;
  }
}

const INSUFFICIENT_PRIVILEGE = "42501";

/** Fails with a clear error when the schema is behind this code; for processes started with `migrate: false`. */
export async function requireCurrentSchema(pool: pg.Pool, schema: string): Promise<void> {
  const current = await schemaVersion(pool, schema);
  const latest = latestVersion();
  if (current > latest) throw new SchemaNewerError(schema, current, latest);
  if (current < latest) throw new SchemaBehindError(schema, current, latest);
}

async function migrateWithRetries(pool: pg.Pool, schema: string): Promise<number[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(pool, schema);
    } catch (error) {
      // The advisory lock does not refresh the catalog cache: a starter that
      // waited for another's migration can still miss the schema it just
      // created and fail with a duplicate. Once more, it finds the work done.
      const code = (error as { code?: string }).code;
      if (attempt >= 3 || !["23505", "42P06", "42P07", "42710"].includes(code ?? "")) throw error;
    }
  }
}

async function migrateOnce(pool: pg.Pool, schema: string): Promise<number[]> {
  const quotedSchema = quoteSchema(schema);
  return withTransaction(pool, async (client) => {
    // Waits as long as another process's migration runs: exempt from the pool's query_timeout, like the migrations.
    await client.query({ text: "select pg_advisory_xact_lock(hashtextextended($1, 0))", values: [`durable-async:migrate:${schema}`], query_timeout: 24 * 3_600_000 } as any);
    // Only when missing: a role that owns the schema (least privilege) may lack CREATE on the database,
    // and `create schema if not exists` checks that privilege even when the schema is there.
    const { rows: found } = await client.query("select 1 from pg_namespace where nspname = $1", [schema]);
    if (found.length === 0) await client.query(`create schema if not exists ${quotedSchema}`);
    await client.query(
      `create table if not exists ${quotedSchema}.migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())`,
    );
    const { rows } = await client.query<{ version: number }>(`select coalesce(max(version), 0)::int as version from ${quotedSchema}.migrations`);
    const current = rows[0]!.version;
    const latest = latestVersion();
    if (current > latest) throw new SchemaNewerError(schema, current, latest);
    const applied: number[] = [];
    for (const migration of loadMigrations()) {
      if (migration.version <= current) continue;
      await client.query(`insert into ${quotedSchema}.migrations (version, name) values ($1, $2)`, [migration.version, migration.name]);
      // A migration may build an index over millions of rows: exempt it from the pool's query_timeout.
      await client.query({ text: migration.sql.replaceAll(":SCHEMA", quotedSchema), query_timeout: 24 * 3_600_000 } as any);
      applied.push(migration.version);
    }
    return applied;
  });
}

/** Reads the schema's migration version without changing anything (0 when absent). */
export async function schemaVersion(pool: pg.Pool, schema: string): Promise<number> {
  const quotedSchema = quoteSchema(schema);
  const exists = await pool.query(`select to_regclass($1) as t`, [`${quotedSchema}.migrations`]);
  if (!exists.rows[0].t) return 0;
  const { rows } = await pool.query(`select coalesce(max(version), 0)::int as version from ${quotedSchema}.migrations`);
  return rows[0].version;
}
