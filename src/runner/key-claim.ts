import type { ClaimedJob } from "./claimed-job.js";
import { claimKeyedJobs, lockDueKeys } from "./key-queries.js";
import type { TransactionClient } from "../db/tx.js";

export interface KeyedClaim {
  jobs: ClaimedJob[];
  /** Whether any keyed job was due (saturated keys included): if not, the producer stops asking until the next poll. */
  keyedDue: boolean;
}

/**
 * Claims up to `demand` jobs that carry a concurrency key, inside the
 * caller's transaction (its own, or the limited claim's): lock the due,
 * unsaturated keys this claim may take (try-locks: a key another node is
 * claiming is skipped, never waited for), then claim within each key's limit.
 */
export async function claimKeyed(
  client: TransactionClient, quotedSchema: string, queue: string, keys: string[], demand: number, nodeId: string, maxClaimBytes: number,
): Promise<KeyedClaim> {
  const locked = await client.query(lockDueKeys(quotedSchema), [queue, keys, demand, `durable:key:${quotedSchema}:`]);
  const { due_keys, keys: concurrencyKeys } = locked.rows[0] as { due_keys: number; keys: string[] };
  if (concurrencyKeys.length === 0) return { jobs: [], keyedDue: due_keys > 0 };
  const { rows } = await client.query(claimKeyedJobs(quotedSchema), [queue, keys, demand, nodeId, concurrencyKeys, maxClaimBytes]);
  return { jobs: rows as ClaimedJob[], keyedDue: true };
}
