import type pg from "pg";
import type { DurableEmitter, Logger } from "../../events/index.js";
import { stuckKeys, waitingReason } from "../../nodes/live.js";
import type { ServiceSpec } from "./service.js";
import { queryWithoutJit } from "../../db/tx.js";

export interface WaitingTask {
  queue: string;
  task: string;
  hash: string;
  /** Due jobs waiting (counted up to 10,000). */
  count: number;
  /** How long the oldest has been due, in ms. */
  waitedMs: number;
  reason: "queue" | "task" | "hash";
  message: string;
}

/**
 * Says what waits: due jobs that no live node can run, once they have waited
 * longer than `unrunnableWarnAfter`, are logged at warn and emitted as
 * `job:unrunnable`, once per queue, task and body hash (again only after they
 * stopped waiting and started again). When this node lacks such a task but
 * has one whose id differs only by a path prefix, that is almost always two
 * processes that computed task ids from different project roots: it says so.
 */
export function unrunnableService(deps: {
  pool: pg.Pool; quotedSchema: string; intervalMs: number; thresholdMs: number; events: DurableEmitter; logger: Logger; ownTaskIds: () => string[];
}): ServiceSpec {
  const warned = new Set<string>();
  const prefixWarned = new Set<string>();
  return {
    during: "checking for jobs no node can run",
    intervalMs: deps.intervalMs,
    async run() {
      // Estimated per key, the statement's cost passes the JIT threshold while it runs in milliseconds.
      const { rows } = await queryWithoutJit(deps.pool, stuckKeys(deps.quotedSchema), [deps.thresholdMs]);
      const now = new Set<string>();
      const fresh: WaitingTask[] = [];
      for (const row of rows) {
        const key = `${row.queue}\0${row.task_id}\0${row.body_hash}`;
        now.add(key);
        if (warned.has(key)) continue;
        warned.add(key);
        const why = waitingReason(row);
        fresh.push({ queue: row.queue, task: row.task_id, hash: row.body_hash, count: row.count, waitedMs: Math.round(row.waited_ms), reason: why.reason, message: why.text });
      }
      for (const key of warned) if (!now.has(key)) warned.delete(key);
      for (const t of fresh) {
        deps.logger.warn(`durable: ${t.count} due job${t.count === 1 ? "" : "s"} of task ${t.task} ${t.count === 1 ? "is" : "are"} ${t.message}`, {
          queue: t.queue, task: t.task, hash: t.hash, count: t.count, waitedMs: t.waitedMs,
        });
      }
      if (fresh.length > 0) deps.events.emit("job:unrunnable", { tasks: fresh });
      warnPathPrefixes(rows.map((r) => r.task_id as string), deps.ownTaskIds(), prefixWarned, deps.logger);
    },
  };
}

/** "src/users.ts#signup#0" and "users.ts#signup#0": same declaration and ordinal, one path ends with the other. */
export function differsByPathPrefix(a: string, b: string): boolean {
  const [pathA, ...restA] = a.split("#");
  const [pathB, ...restB] = b.split("#");
  if (restA.length === 0 || restA.join("#") !== restB.join("#") || pathA === pathB) return false;
  return pathA!.endsWith(`/${pathB}`) || pathB!.endsWith(`/${pathA}`);
}

function warnPathPrefixes(waiting: string[], own: string[], warned: Set<string>, logger: Logger): void {
  if (own.length === 0) return;
  const mine = new Set(own);
  for (const task of new Set(waiting)) {
    if (mine.has(task)) continue;
    const twin = own.find((id) => differsByPathPrefix(task, id));
    if (!twin || warned.has(`${task}\0${twin}`)) continue;
    warned.add(`${task}\0${twin}`);
    logger.warn(
      `durable: jobs of task ${task} wait, and this node has ${twin}: the ids differ only by a path prefix, so the process that enqueued them and this worker computed task ids from different project roots. Start both from the same project (the nearest package.json above the files), or set DURABLE_ROOT to the same folder for both.`,
      { waiting: task, has: twin },
    );
  }
}
