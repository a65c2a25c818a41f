import type { DurableEmitter, Logger } from "../events/index.js";
import { callerOf, type PreparedItem } from "./index.js";

// A failed insert is never silent, awaited or not: one `job:insert-error`
// event and one log line per call site (task and caller) of the rows that
// failed, so a bulk of 5,000 failed jobs reads as one line, not 5,000.

const REPORTED = Symbol("durable.insert-failure-reported");

export function reportInsertFailure(events: DurableEmitter, logger: Logger, error: unknown, prepared: PreparedItem[]): void {
  const e = error instanceof Error ? error : new Error(String(error));
  (e as { [REPORTED]?: boolean })[REPORTED] = true;
  const sites = new Map<string, { task: string; caller: string; jobs: number }>();
  for (const { item } of prepared) {
    const caller = callerOf(item.stub);
    const key = `${item.stub.id}\0${caller}`;
    const site = sites.get(key) ?? { task: item.stub.id, caller, jobs: 0 };
    site.jobs++;
    sites.set(key, site);
  }
  for (const site of sites.values()) {
    events.emit("job:insert-error", { error: e, task: site.task, caller: site.caller });
    logger.error("durable: enqueue failed", { task: site.task, caller: site.caller, jobs: site.jobs, error: e.message });
  }
}

/** True for an error reportInsertFailure already logged (a bulk's insert failure, rethrown by bulk()). */
export function wasReported(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { [REPORTED]?: boolean })[REPORTED] === true;
}
