import type pg from "pg";
import type { QueryableClient } from "../config/options.js";
import { withTransaction } from "../db/tx.js";
import type { JobHandle, PreparedItem } from "../enqueue/index.js";
import { recordDependencies } from "./queries.js";

// `durable.async(fn, { after: [jobA, jobB] })`: the job is inserted and, in
// the same transaction, made to wait for its dependencies (state `waiting`,
// waiting_for naming them, one journal row per dependency). It is woken like
// any waiting job when they end; a dependency that failed cancels it unless
// `afterFailure: "run"` (wakeWaitingJobs and cancelFailedDependents).

export const hasDependencies = (prepared: readonly PreparedItem[]): boolean => prepared.some((p) => p.item.options.dependencies);

const isPool = (client: QueryableClient): client is pg.Pool => typeof (client as pg.Pool).connect === "function" && typeof (client as pg.Pool).totalCount === "number";

/** Runs `insert` and records the dependencies in one transaction: the caller's (`client`), or one of its own on a pool. */
export async function insertWithDependencies(
  target: QueryableClient,
  quotedSchema: string,
  prepared: readonly PreparedItem[],
  insert: (client: QueryableClient) => Promise<JobHandle[]>,
): Promise<JobHandle[]> {
  if (!isPool(target)) return recordAfterInsert(target, quotedSchema, prepared, await insert(target));
  return withTransaction(target, async (client) => recordAfterInsert(client, quotedSchema, prepared, await insert(client)));
}

/** Records the dependencies of jobs just inserted by `client` (inside its transaction); returns the handles with their states. */
export async function recordAfterInsert(client: QueryableClient, quotedSchema: string, prepared: readonly PreparedItem[], handles: JobHandle[]): Promise<JobHandle[]> {
  const ids: string[] = [];
  const deps: string[] = [];
  const policies: string[] = [];
  prepared.forEach((p, i) => {
    const dependencies = p.item.options.dependencies;
    // A unique conflict inserted nothing: the existing job keeps its own dependencies.
    if (!dependencies || handles[i]!.conflict) return;
    ids.push(handles[i]!.id);
    deps.push(`{${dependencies.after.join(",")}}`);
    policies.push(dependencies.afterFailure);
  });
  if (ids.length === 0) return handles;
  const { rows } = await client.query(recordDependencies(quotedSchema), [ids, deps, policies]);
  const states = new Map<string, string>(rows.map((r: { id: string; state: string }) => [r.id, r.state]));
  return handles.map((h) => (states.has(h.id) ? { ...h, state: states.get(h.id)! } : h));
}
