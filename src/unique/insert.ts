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

/** The uniqueness a checked insert applies: per row an index (1-based) into the rules, or null for a row without a key. */
export interface UniqueCheck {
  rules: Array<number | null>;
  /** Per rule: the window in ms, null for forever. */
  periodsMs: Array<number | null>;
  /** Per rule: the states that count, comma-separated. */
  states: string[];
  /** Prepended to each key for its advisory lock (one namespace per schema). */
  lockPrefix: string;
}

/** What a checked insert wrote: ids of the rows it inserted, in order, and the rows (0-based) it did not, with the job each conflicts with. */
export interface CheckedRows {
  inserted: Array<{ id: string; state: string }>;
  conflicts: Array<{ row: number; id: string; state: string; queue: string; task: string }>;
}

/** Locks the rows' keys, then inserts (in order) those no job holds yet: one statement (migrations/0011). */
export type InsertCheckedRows<P> = (client: QueryableClient, items: P[], check: UniqueCheck) => Promise<CheckedRows>;

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

/** How a batch is written: the rows sent (each key once), the repeats within it, and the rules of the keys sent. */
interface BatchPlan {
  /** The plan covers rows [0, count) of the batch. */
  count: number;
  send: number[];
  /** A repeat of a key earlier in the batch → that row: it conflicts with the first. */
  sameAs: Map<number, number>;
  check: UniqueCheck;
  replaces: boolean;
}

/**
 * Plans the rows from the start of `prepared` up to the first repeat of a key
 * under another rule (period or states), which needs the rows before it
 * written first: it is checked by its own rule against them, as if the calls
 * were made one after another.
 */
function planBatch<P extends UniqueCandidate>(quotedSchema: string, prepared: P[]): BatchPlan {
  const plan: BatchPlan = { count: prepared.length, send: [], sameAs: new Map(), check: { rules: [], periodsMs: [], states: [], lockPrefix: `durable:unique:${quotedSchema}:` }, replaces: false };
  const firstInBatch = new Map<string, { i: number; rule: number }>();
  // Rows of one call site share their normalized options object: one rule each, looked up by identity first.
  const ruleOf = new Map<NormalizedUnique, number>();
  const ruleOfText = new Map<string, number>();
  for (let i = 0; i < prepared.length; i++) {
    const p = prepared[i]!;
    const key = p.row.uniqueKey;
    const unique = p.item.options.unique;
    if (key === null || !unique) {
      plan.send.push(i);
      plan.check.rules.push(null);
      continue;
    }
    let rule = ruleOf.get(unique);
    if (rule === undefined) {
      const states = unique.states.join(",");
      const text = `${unique.periodMs}:${states}`;
      rule = ruleOfText.get(text);
      if (rule === undefined) {
        plan.check.periodsMs.push(unique.periodMs);
        plan.check.states.push(states);
        ruleOfText.set(text, (rule = plan.check.states.length));
      }
      ruleOf.set(unique, rule);
    }
    const first = firstInBatch.get(key);
    if (first !== undefined && first.rule !== rule) return { ...plan, count: i };
    if (unique.replace.length > 0) plan.replaces = true;
    if (first !== undefined) {
      plan.sameAs.set(i, first.i);
      continue;
    }
    firstInBatch.set(key, { i, rule });
    plan.send.push(i);
    plan.check.rules.push(rule);
  }
  return plan;
}

/**
 * Inserts a batch where some rows carry a unique key, in one statement that
 * locks the keys, finds the newest conflicting job per row and inserts only
 * the rest; conflicts are answered with the existing job's handle. Two rows
 * of the same batch with one key: the second conflicts with the first.
 */
export async function insertUnique<P extends UniqueCandidate>(
  client: QueryableClient,
  quotedSchema: string,
  prepared: P[],
  insertRows: InsertCheckedRows<P>,
): Promise<InsertResult[]> {
  const plan = planBatch(quotedSchema, prepared);
  // The statement is a transaction of its own on the pool: its locks last until its rows commit.
  // `replace` writes the conflicting jobs after it, under the same locks, so it needs one around both.
  if (plan.count === prepared.length) {
    const write = (c: QueryableClient) => writeBatch(c, quotedSchema, prepared, plan, insertRows);
    return isPool(client) && !plan.replaces ? write(client) : inCallersOrOwnTransaction(client, write);
  }
  // A key repeated under another rule: the batch goes in parts, in order, in one transaction.
  return inCallersOrOwnTransaction(client, async (c) => {
    const results: InsertResult[] = [];
    for (let from = 0, part = plan; from < prepared.length; from += part.count) {
      if (from > 0) part = planBatch(quotedSchema, prepared.slice(from));
      results.push(...(await writeBatch(c, quotedSchema, prepared.slice(from, from + part.count), part, insertRows)));
    }
    return results;
  });
}

async function writeBatch<P extends UniqueCandidate>(c: QueryableClient, quotedSchema: string, prepared: P[], plan: BatchPlan, insertRows: InsertCheckedRows<P>): Promise<InsertResult[]> {
  const { inserted, conflicts } = await insertRows(c, plan.send.map((i) => prepared[i]!), plan.check);
  const results: Array<InsertResult | null> = prepared.map(() => null);
  for (const x of conflicts) results[plan.send[x.row]!] = { id: x.id, task: x.task, queue: x.queue, state: x.state, conflict: true };
  let next = 0;
  for (const i of plan.send) {
    if (results[i]) continue;
    const row = inserted[next++]!;
    results[i] = { id: row.id, task: prepared[i]!.item.stub.id, queue: prepared[i]!.row.queue, state: row.state, conflict: false };
  }
  for (const [i, first] of plan.sameAs) results[i] = { ...results[first]!, conflict: true };
  if (plan.replaces) {
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i]!;
      const replace = p.item.options.unique?.replace ?? [];
      if (p.row.uniqueKey !== null && results[i]!.conflict && replace.length > 0) results[i] = await replaceConflicting(c, quotedSchema, results[i]!, p, replace);
    }
  }
  return results as InsertResult[];
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
