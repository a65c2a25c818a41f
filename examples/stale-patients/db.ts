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
    drop table if exists stale_patients, patient_visits;
    create table patient_visits (client_id int not null, patient_id int not null, last_visit date not null, primary key (client_id, patient_id));
    create table stale_patients (
      client_id int not null,
      patient_id int not null,
      last_visit date not null,
      days_since int not null,
      checks int not null default 1,
      updated_at timestamptz not null default now(),
      primary key (client_id, patient_id)
    );
    insert into patient_visits values
      (1, 101, current_date - 400), (1, 102, current_date - 20), (1, 103, current_date - 800),
      (2, 101, current_date - 500), (2, 201, current_date - 10);
  `);
}
