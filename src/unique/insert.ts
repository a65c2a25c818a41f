import type { QueryableClient } from "../config/options.js";
import type { NormalizedUnique } from "./options.js";
import * as sql from "./queries.js";
import type pg from "pg";
import { inTransaction as inOwnTransaction, withTransaction } from "../db/tx.js";

/** What the unique path needs of a prepared job (kept structural so enqueue and unique don't import each other). */
export interface UniqueCandidate {
  row: { queue: string; uniqueKey: string | null; runAt: Date | null; meta: string; priority: number; tags: string; maxAttempts: number; captures: string; bodyHash: string; rowKey: string | null };
  item: { stub: { id: string }; options: { unique?: NormalizedUnique | undefined } };
}

export interface InsertResult {
  id: string;
  task: string;
  queue: string;
  state: string;
  conflict: boolean;
}

/** Inserts rows (in order) and returns id/state/queue per row, in order. */
export type InsertRows<P> = (client: QueryableClient, items: P[]) => Promise<Array<{ id: string; state: string }>>;

const isPool = (c: any): boolean => typeof c?.connect === "function" && typeof c?.totalCount === "number";

/**
 * Runs `work` in a transaction on `client`: our own one when handed a pool or
 * an idle client; inside the caller's transaction (under a savepoint) when
 * there is one, so the advisory locks live until the caller commits and a
 * rollback releases them together with the row.
 */
async function inCallersOrOwnTransaction<T>(client: QueryableClient, work: (c: QueryableClient) => Promise<T>): Promise<T> {
  if (isPool(client)) return withTransaction(client as pg.Pool, work);
  try {
    await client.query(sql.savepoint);
  } catch (error: any) {
    if (error?.code !== sql.NO_TRANSACTION) throw error;
    return inOwnTransaction(client, work);
  }
  try {
    const result = await work(client);
    await client.query(sql.releaseSavepoint);
    return result;
  } catch (error) {
    // Leave the caller's transaction usable, as if this insert never ran.
    await client.query(sql.rollbackToSavepoint).catch(() => undefined);
    throw error;
  }
}

/**
 * Inserts a batch where some rows carry a unique key. Locks every key (sorted),
 * finds the newest conflicting job per row, inserts only the rest in one
 * statement, and answers conflicts with the existing job's handle. Two rows of
 * the same batch with one key: the second conflicts with the first.
 */
export async function insertUnique<P extends UniqueCandidate>(
  client: QueryableClient,
  quotedSchema: string,
  prepared: P[],
  insertRows: InsertRows<P>,
): Promise<InsertResult[]> {
  return inCallersOrOwnTransaction(client, async (c) => {
    const keyed = prepared.map((p, i) => ({ p, i })).filter(({ p }) => p.row.uniqueKey !== null);
    const keys = [...new Set(keyed.map(({ p }) => p.row.uniqueKey!))].sort();
    await c.query(sql.lockUniqueKeys, [keys, `durable:unique:${quotedSchema}:`]);
    const found = await c.query(sql.findConflicts(quotedSchema), [
      keyed.map(({ p }) => p.row.uniqueKey),
      keyed.map(({ p }) => p.item.options.unique!.periodMs),
      keyed.map(({ p }) => p.item.options.unique!.states.join(",")),
    ]);
    const results: Array<InsertResult | null> = prepared.map(() => null);
    const firstInBatch = new Map<string, number>();
    for (const r of found.rows as Array<{ n: number; id: string; state: string; queue: string; task_id: string }>) {
      results[keyed[r.n - 1]!.i] = { id: r.id, task: r.task_id, queue: r.queue, state: r.state, conflict: true };
    }
    const toInsert: number[] = [];
    const sameAs = new Map<number, number>();
    prepared.forEach((p, i) => {
      if (results[i]) return;
      const key = p.row.uniqueKey;
      if (key !== null && firstInBatch.has(key)) return void sameAs.set(i, firstInBatch.get(key)!);
      if (key !== null) firstInBatch.set(key, i);
      toInsert.push(i);
    });
    const inserted = toInsert.length ? await insertRows(c, toInsert.map((i) => prepared[i]!)) : [];
    toInsert.forEach((i, j) => {
      const row = inserted[j]!;
      results[i] = { id: row.id, task: prepared[i]!.item.stub.id, queue: prepared[i]!.row.queue, state: row.state, conflict: false };
    });
    for (const [i, first] of sameAs) results[i] = { ...results[first]!, conflict: true };
    for (const { p, i } of keyed) {
      const result = results[i]!;
      const replace = p.item.options.unique!.replace;
      if (result.conflict && replace.length > 0) results[i] = await replaceConflicting(c, quotedSchema, result, p, replace);
    }
    return results as InsertResult[];
  });
}

async function replaceConflicting(c: QueryableClient, quotedSchema: string, existing: InsertResult, p: UniqueCandidate, replace: string[]): Promise<InsertResult> {
  const has = (f: string) => replace.includes(f);
  const { rows } = await c.query(sql.replaceFields(quotedSchema), [
    existing.id, has("scheduled_at"), has("meta"), has("priority"), has("tags"), has("max_attempts"),
    p.row.runAt, p.row.meta, p.row.priority, p.row.tags, p.row.maxAttempts,
    has("captures"), p.row.captures, p.row.bodyHash, p.row.rowKey,
  ]);
  return rows[0] ? { ...existing, state: rows[0].state } : existing;
}
