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
    drop table if exists bloodwork_polls, orgs;
    create table orgs (id int primary key, name text not null, bloodwork_enabled boolean not null);
    create table bloodwork_polls (id serial primary key, org_id int not null references orgs, polled_at timestamptz not null default now());
    insert into orgs values (1, 'North Clinic', true), (2, 'South Clinic', false), (3, 'East Clinic', true), (4, 'West Clinic', true);
  `);
}
