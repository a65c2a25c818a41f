import type pg from "pg";

/** What control and report functions act on: a started instance's pool and schema. */
export interface DurableTarget {
  pool: pg.Pool;
  /** The quoted schema name. */
  quotedSchema: string;
  /** Notification channels of that schema. */
  channels: { insert: string; done: string; control: string };
}

/** Resolves once the instance is started; the APIs call it first so they work before an explicit start(). */
export type TargetSource = () => Promise<DurableTarget>;
