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
    drop table if exists welcome_emails, users;
    create table users (id serial primary key, email text not null unique, name text not null);
    create table welcome_emails (user_id int not null, email text not null, attempt int not null, sent_at timestamptz not null default now());
  `);
}
