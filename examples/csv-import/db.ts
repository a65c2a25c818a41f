import { durable } from "durable-async";
import type pg from "pg";

let pool: pg.Pool | undefined;

/** The app's tables live in the database durable uses, so its pool is reused; tests hand in their own. */
export const appDb = (): pg.Pool => pool ?? durable.instance.pool;
export function setAppDb(db: pg.Pool): void {
  pool = db;
}

export async function createTables(): Promise<void> {
  await appDb().query(`
    drop table if exists csv_import_rows, csv_imports;
    create table csv_imports (id serial primary key, org_id int not null, file text not null, status text not null, rows int, created_at timestamptz not null default now());
    create table csv_import_rows (import_id int not null references csv_imports, line int not null, email text not null, name text not null, primary key (import_id, line));
  `);
}
