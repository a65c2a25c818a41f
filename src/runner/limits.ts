import type pg from "pg";
import type { ClaimedJob } from "./claimed-job.js";
import { allowance, fetchLimitedJobs, lockQueue } from "./limit-queries.js";
import { claimKeyed } from "./key-claim.js";
import { recordKeyedStarts } from "./key-queries.js";
import { fetchPartitionedJobs, partitionWait, recordPartitionedStarts } from "./partition-queries.js";
import { withTransaction } from "../db/tx.js";

export interface QueueLimits {
  globalConcurrency: number | null;
  /** `by`: the meta path (without "meta.") whose value partitions the window; null or absent: one window for the queue. */
  rateLimit: { allowed: number; periodMs: number; by?: string[] | null } | null;
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
  const rate = limits.rateLimit;
  const partitioned = rate?.by ? { ...rate, by: rate.by } : null;
  return withTransaction(pool, async (client) => {
    await client.query(lockQueue, [`durable:limit:${quotedSchema}:${queue}`]);
    // A partitioned rate limit is counted per partition by the claim itself; the allowance then only applies
    // the global concurrency (and trims starts that left the window).
    const { rows } = await client.query(allowance(quotedSchema), [queue, demand, limits.globalConcurrency, partitioned ? null : rate?.allowed ?? null, rate?.periodMs ?? null]);
    const { at, n, wait_ms } = rows[0];
    if (n <= 0) return { jobs: [], waitMs: wait_ms ?? null, keyedDue };
    // Jobs with a concurrency key come out of the same allowance, under the same queue lock.
    const keyed = keyedDue ? await claimKeyed(client, quotedSchema, queue, keys, n, nodeId, maxClaimBytes) : { jobs: [], keyedDue: false };
    const keyedIds = keyed.jobs.map((j) => j.id);
    if (keyedIds.length > 0 && partitioned) await client.query(recordPartitionedStarts(quotedSchema), [queue, at, keyedIds, partitioned.by]);
    else if (keyedIds.length > 0 && rate) await client.query(recordKeyedStarts(quotedSchema), [queue, at, keyedIds]);
    const rest = n - keyed.jobs.length;
    if (rest <= 0) return { jobs: keyed.jobs, waitMs: wait_ms ?? null, keyedDue: keyed.keyedDue };
    if (!partitioned) {
      const plain = (await client.query(fetchLimitedJobs(quotedSchema), [queue, keys, rest, nodeId, at, rate !== null, maxClaimBytes])).rows as ClaimedJob[];
      return { jobs: [...keyed.jobs, ...plain], waitMs: wait_ms ?? null, keyedDue: keyed.keyedDue };
    }
    const params = [queue, keys, rest, nodeId, at, maxClaimBytes, partitioned.allowed, partitioned.periodMs, partitioned.by];
    const plain = (await client.query(fetchPartitionedJobs(quotedSchema), params)).rows as ClaimedJob[];
    // Fewer than asked: partitions may be out of budget; try again when the oldest start leaves the window.
    const waitMs = plain.length < rest ? ((await client.query(partitionWait(quotedSchema), [queue, at, partitioned.periodMs])).rows[0]?.wait_ms ?? null) : null;
    return { jobs: [...keyed.jobs, ...plain], waitMs, keyedDue: keyed.keyedDue };
  });
}
