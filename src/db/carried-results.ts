import { createHmac, timingSafeEqual } from "node:crypto";
import type pg from "pg";
import type { Logger } from "../logger.js";

// Small results ride the completion notification (notifier.ts, the "done"
// channel), so durable.await() in another process needs no read of the row.
// Any role that can connect may NOTIFY on any channel, so each carried
// result holds an HMAC of (job id, stored result) under the schema's
// notify_key (migration 0010); an awaiter that cannot verify one reads the
// row instead. Item: `r<id>:<mac>:<stored result, "%" and "," escaped>`,
// empty for a job that returned nothing.

/** PostgreSQL refuses a payload of 8000 bytes or more; the ids of the batch share it. */
export const NOTIFY_PAYLOAD_BUDGET = 7_900;

export type NotifyKey = Buffer;

/** The schema's key, or null when this role may not read it (it then carries and verifies nothing). */
export async function loadNotifyKey(pool: pg.Pool, quotedSchema: string, logger: Logger): Promise<NotifyKey | null> {
  try {
    const { rows } = await pool.query(`select key from ${quotedSchema}.notify_key`);
    return typeof rows[0]?.key === "string" ? Buffer.from(rows[0].key, "utf8") : null;
  } catch (error) {
    logger.debug("durable: the notify key cannot be read; results will not ride completion notifications", { error: String(error) });
    return null;
  }
}

const mac = (key: NotifyKey, id: string, stored: string | null): string =>
  createHmac("sha256", key).update(id).update("\n").update(stored ?? "").digest("base64url").slice(0, 22);

const escape = (text: string) => text.replace(/[%,]/g, (c) => (c === "%" ? "%25" : "%2C"));
const unescape = (text: string) => text.replace(/%2C|%25/g, (c) => (c === "%2C" ? "," : "%"));

/** The notification item carrying a completed job's stored result (JSON text; null: none). */
export function carriedItem(key: NotifyKey, id: string, stored: string | null): string {
  return `r${id}:${mac(key, id, stored)}:${stored === null ? "" : escape(stored)}`;
}

export interface CarriedResult {
  id: string;
  mac: string;
  /** Escaped stored result; opened (and checked) by openCarried. */
  text: string;
}

/** Splits an item of the done payload; null when it is not a carried result. */
export function parseCarried(item: string): CarriedResult | null {
  const match = /^r(\d{1,19}):([A-Za-z0-9_-]{22}):/.exec(item);
  return match ? { id: match[1]!, mac: match[2]!, text: item.slice(match[0].length) } : null;
}

/** The stored result (null: none) if the item's HMAC holds under `key`, else undefined. */
export function openCarried(key: NotifyKey, carried: CarriedResult): string | null | undefined {
  const stored = carried.text === "" ? null : unescape(carried.text);
  const expected = Buffer.from(mac(key, carried.id, stored));
  const given = Buffer.from(carried.mac);
  return expected.length === given.length && timingSafeEqual(expected, given) ? stored : undefined;
}
