import type pg from "pg";
import type { ClaimedJob } from "./claimed-job.js";
import { allowance, fetchLimitedJobs, lockQueue } from "./limit-queries.js";
import { claimKeyed } from "./key-claim.js";
import { recordKeyedStarts } from "./key-queries.js";
import { withTransaction } from "../db/tx.js";

export interface QueueLimits {
  globalConcurrency: number | null;
  rateLimit: { allowed: number; periodMs: number } | null;
}

export const hasLimits = (l: QueueLimits): boolean => l.globalConcurrency !== null || l.rateLimit !== null;

export interface LimitedClaim {
  jobs: ClaimedJob[];
  /** When the rate window frees a slot (ms), if the rate limit held this claim back. */
  waitMs: number | null;
  /** Whether jobs with a concurrency key were due (see key-claim.ts). */
  keyedDue: boolean;
}

/**
 * Claims up to `demand` jobs of a queue with cluster-wide limits: lock the
 * queue, compute the allowance from committed starts, claim that many, commit.
 * Costs five round trips, paid only by limited queues.
 */
export async function claimLimited(
  pool: pg.Pool, quotedSchema: string, queue: string, keys: string[], demand: number, nodeId: string, limits: QueueLimits, maxClaimBytes: number,
  keyedDue = false,
): Promise<LimitedClaim> {
  return withTransaction(pool, async (client) => {
    await client.query(lockQueue, [`durable:limit:${quotedSchema}:${queue}`]);
    const { rows } = await client.query(allowance(quotedSchema), [queue, demand, limits.globalConcurrency, limits.rateLimit?.allowed ?? null, limits.rateLimit?.periodMs ?? null]);
    const { at, n, wait_ms } = rows[0];
    if (n <= 0) return { jobs: [], waitMs: wait_ms ?? null, keyedDue };
    // Jobs with a concurrency key come out of the same allowance, under the same queue lock.
    const keyed = keyedDue ? await claimKeyed(client, quotedSchema, queue, keys, n, nodeId, maxClaimBytes) : { jobs: [], keyedDue: false };
    if (keyed.jobs.length > 0 && limits.rateLimit !== null) await client.query(recordKeyedStarts(quotedSchema), [queue, at, keyed.jobs.map((j) => j.id)]);
    const rest = n - keyed.jobs.length;
    const plain = rest > 0 ? ((await client.query(fetchLimitedJobs(quotedSchema), [queue, keys, rest, nodeId, at, limits.rateLimit !== null, maxClaimBytes])).rows as ClaimedJob[]) : [];
    return { jobs: [...keyed.jobs, ...plain], waitMs: wait_ms ?? null, keyedDue: keyed.keyedDue };
  });
}
