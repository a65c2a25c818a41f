import type pg from "pg";
import type { Producer } from "./producer.js";

// Queues added at run time (durable.queues.add): a row in `queues` with the
// node type that runs it. Every node of that type starts a producer for it
// when it re-reads controls (control notification, poll, start), and stops
// the producer once the queue is removed: running jobs finish within the
// shutdown grace, the rest go back to the queue at once.

/** Runtime queues for these node types, with the per-node concurrency set by add/resize/scale. */
export const runtimeQueues = (quotedSchema: string) => `
select name, concurrency from ${quotedSchema}.queues where node_type = any($1::text[])`;

/** Per-node concurrency of a runtime queue added without one. */
export const DEFAULT_RUNTIME_CONCURRENCY = 10;

export interface RuntimeQueueHost {
  readonly producers: Map<string, Producer>;
  addProducer(queue: string, limit: number): Producer;
  /** Stops a producer (already removed from `producers`): running jobs finish, buffered ones go back. */
  retireProducer(producer: Producer): Promise<void>;
  register(): Promise<void>;
}

/**
 * Brings this node's producers in line with the runtime queues of its node
 * types. Queues from `durable.start({ queues })` are never touched: only the
 * ones this function started (`added`) are stopped again. Returns whether
 * anything changed (the node row is re-registered then).
 */
export async function syncRuntimeQueues(pool: pg.Pool, quotedSchema: string, nodeTypes: readonly string[], host: RuntimeQueueHost, added: Set<string>): Promise<boolean> {
  const { rows } = await pool.query(runtimeQueues(quotedSchema), [nodeTypes]);
  const wanted = new Map<string, number>(rows.map((r) => [r.name as string, (r.concurrency as number | null) ?? DEFAULT_RUNTIME_CONCURRENCY]));
  let changed = false;
  for (const [queue, limit] of wanted) {
    if (host.producers.has(queue)) continue;
    host.addProducer(queue, limit).wake();
    added.add(queue);
    changed = true;
  }
  for (const queue of [...added]) {
    if (wanted.has(queue)) continue;
    const producer = host.producers.get(queue);
    added.delete(queue);
    if (!producer) continue;
    host.producers.delete(queue);
    void host.retireProducer(producer);
    changed = true;
  }
  if (changed) await host.register();
  return changed;
}
