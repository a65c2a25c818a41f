import type pg from "pg";
import type { ClaimedJob } from "./executor.js";
import { allowance, fetchLimitedJobs, lockQueue } from "./limit-queries.js";

export interface QueueLimits {
  globalConcurrency: number | null;
  rateLimit: { allowed: number; periodMs: number } | null;
}

export const hasLimits = (l: QueueLimits): boolean => l.globalConcurrency !== null || l.rateLimit !== null;

export interface LimitedClaim {
  jobs: ClaimedJob[];
  /** When the rate window frees a slot (ms), if the rate limit held this claim back. */
  waitMs: number | null;
}

/**
 * Claims up to `demand` jobs of a queue with cluster-wide limits: lock the
 * queue, compute the allowance from committed starts, claim that many, commit.
 * Costs five round trips, paid only by limited queues.
 */
export async function claimLimited(pool: pg.Pool, q: string, queue: string, keys: string[], demand: number, nodeId: string, limits: QueueLimits): Promise<LimitedClaim> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query(lockQueue, [`durable:limit:${q}:${queue}`]);
    const { rows } = await client.query(allowance(q), [queue, demand, limits.globalConcurrency, limits.rateLimit?.allowed ?? null, limits.rateLimit?.periodMs ?? null]);
    const { at, n, wait_ms } = rows[0];
    const jobs = n > 0 ? ((await client.query(fetchLimitedJobs(q), [queue, keys, n, nodeId, at, limits.rateLimit !== null])).rows as ClaimedJob[]) : [];
    await client.query("commit");
    return { jobs, waitMs: wait_ms ?? null };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
