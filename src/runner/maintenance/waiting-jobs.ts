import type pg from "pg";
import { cancelFailedDependents, wakeWaitingJobs } from "../../steps/queries.js";
import type { ServiceSpec } from "./service.js";

const PAGE = 2_000;

/**
 * Wakes waiting jobs whose wait is over but whom no end woke: the jobs they
 * waited for ended side by side in two transactions, ended by a path that
 * does not wake (a rescue, a cancel, a version-skew discard), or before the
 * suspension was written (other nodes claim what it wakes on their next
 * poll). It also cancels the jobs whose `after` dependency failed (unless they run
 * anyway). Each pass reads one page of PAGE waiting jobs, the next page on
 * the next pass: a node's cost per pass stays flat however many jobs wait,
 * and with up to PAGE waiting (most systems) every pass still sees them all.
 * Beyond that a missed wake waits at most (waiting ÷ PAGE) passes.
 */
export function waitingJobsService(deps: { pool: pg.Pool; quotedSchema: string; intervalMs: number; wake: (queue: string) => void; page?: number }): ServiceSpec {
  const page = deps.page ?? PAGE;
  const text = wakeWaitingJobs(deps.quotedSchema);
  const cancel = cancelFailedDependents(deps.quotedSchema);
  let after = "0";
  const sweep = async (from: string) => {
    // Failures of the last three passes (10 s at least): a pass that ran late or slow still overlaps the last.
    await deps.pool.query(cancel, [from, page, Math.max(3 * deps.intervalMs, 10_000)]);
    const { rows } = await deps.pool.query(text, [from, page]);
    const { upto, seen, queues } = rows[0] as { upto: string | null; seen: number; queues: string[] };
    // A short page was the last one: the next pass starts again from the first waiting job.
    after = seen < page || upto === null ? "0" : upto;
    return { seen, queues };
  };
  return {
    during: "waking waiting jobs",
    intervalMs: deps.intervalMs,
    async run() {
      const from = after;
      const { seen, queues } = await sweep(from);
      for (const queue of queues) deps.wake(queue);
      // Past the last page: start over now rather than spend a pass on nothing.
      if (seen === 0 && from !== "0") for (const queue of (await sweep("0")).queues) deps.wake(queue);
    },
  };
}
