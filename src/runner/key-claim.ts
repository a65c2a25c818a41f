import type { ClaimedJob } from "./claimed-job.js";
import { claimKeyedJobs, lockDueKeys } from "./key-queries.js";
import type { TransactionClient } from "../db/tx.js";

interface LockedKeys {
  due_keys: number;
  seen: number;
  keys: string[];
}

/** How many due keyed jobs (in claim order) a claim looks at first for keys with a free slot. */
const KEY_WINDOW = 500;

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
  const prefix = `durable:key:${quotedSchema}:`;
  // Most claims find their keys among the first due jobs; only when that window is full of saturated
  // keys does the claim look at every due keyed job, so a busy key never holds the others back.
  const window = Math.max(KEY_WINDOW, demand * 20);
  let { due_keys, seen, keys: concurrencyKeys } = (await client.query(lockDueKeys(quotedSchema), [queue, keys, demand, prefix, window])).rows[0] as LockedKeys;
  if (concurrencyKeys.length < demand && seen >= window) {
    const all = (await client.query(lockDueKeys(quotedSchema), [queue, keys, demand, prefix, null])).rows[0] as LockedKeys;
    // Locks taken twice are held once: the second pass repeats keys of the first.
    concurrencyKeys = [...new Set([...concurrencyKeys, ...all.keys])];
    due_keys = all.due_keys;
  }
  if (concurrencyKeys.length === 0) return { jobs: [], keyedDue: due_keys > 0 };
  const { rows } = await client.query(claimKeyedJobs(quotedSchema), [queue, keys, demand, nodeId, concurrencyKeys, maxClaimBytes]);
  return { jobs: rows as ClaimedJob[], keyedDue: true };
}
