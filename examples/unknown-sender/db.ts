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
    drop table if exists unknown_sender_replies, known_senders;
    create table known_senders (org_id int not null, email text not null, primary key (org_id, email));
    create table unknown_sender_replies (id serial primary key, org_id int not null, sender text not null, subject text not null, sent_at timestamptz not null default now());
    insert into known_senders values (1, 'patient@example.com');
  `);
}
