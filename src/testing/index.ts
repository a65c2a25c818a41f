// `durable-async/testing`: test your own code that calls durable.async
// without a database, in the manner of Oban.Testing.
//
//   beforeEach(() => useTestingMode("manual"));
//   afterEach(() => stopTestingMode());
//
//   await registerUser({ email: "ada@example.com" });
//   assertEnqueued({ task: "registerUser", captures: { user: { email: "ada@example.com" } } });
//   await drain("worker");
import { DurableError } from "../errors.js";
import type { JobHandle } from "../enqueue/index.js";
import type { AttemptOutcome } from "./execute.js";
import { activeRuntime } from "./mode.js";
import { describeFilter, describeJob, matches, type EnqueuedJob, type JobFilter, type TestJobState } from "./store.js";

export { useTestingMode, stopTestingMode, testingModeName, type TestingModeName, type TestingModeOptions } from "./mode.js";
export type { EnqueuedJob, JobFilter, TestJobState, AttemptOutcome };

/** Thrown by assertEnqueued/refuteEnqueued; test runners show its message like any failed expectation. */
export class EnqueuedAssertionError extends DurableError {
  constructor(message: string) {
    super("DURABLE_TESTING_ASSERTION", message);
    this.name = "EnqueuedAssertionError";
  }
}

/** Every job recorded since the testing mode started, oldest first, optionally filtered. */
export function allEnqueued(filter: JobFilter = {}): EnqueuedJob[] {
  return activeRuntime("allEnqueued").jobs.filter((job) => matches(job, filter));
}

function listing(jobs: EnqueuedJob[]): string {
  if (jobs.length === 0) return "No jobs were enqueued.";
  return `Enqueued jobs:\n${jobs.map((j) => `  ${describeJob(j)}`).join("\n")}`;
}

/** Passes when at least one recorded job matches; returns the first match. */
export function assertEnqueued(filter: JobFilter): EnqueuedJob {
  const runtime = activeRuntime("assertEnqueued");
  const found = runtime.jobs.find((job) => matches(job, filter));
  if (!found) throw new EnqueuedAssertionError(`Expected a job matching ${describeFilter(filter)}.\n${listing(runtime.jobs)}`);
  return found;
}

/** Passes when no recorded job matches. */
export function refuteEnqueued(filter: JobFilter): void {
  const runtime = activeRuntime("refuteEnqueued");
  const found = runtime.jobs.filter((job) => matches(job, filter));
  if (found.length > 0) throw new EnqueuedAssertionError(`Expected no job matching ${describeFilter(filter)}, found ${found.length}:\n${found.map((j) => `  ${describeJob(j)}`).join("\n")}`);
}

/** Forgets every recorded job (the mode stays on). */
export function clearEnqueued(): void {
  activeRuntime("clearEnqueued").clear();
}

export interface DrainOptions {
  /** Also run jobs scheduled for later (default false). */
  scheduled?: boolean;
  /** Retry failed attempts at once until attempts run out (default true); false leaves them retryable. */
  retries?: boolean;
  /** Run jobs that the drained jobs enqueue (default true). */
  recursive?: boolean;
}

export interface DrainSummary {
  /** Attempts run. */
  attempts: number;
  completed: number;
  discarded: number;
  cancelled: number;
  retryable: number;
  scheduled: number;
}

const DRAIN_LIMIT = 100_000;

/** When a job is due, as run_at orders the claim: its due time, else when it was inserted. */
const dueAt = (job: EnqueuedJob) => (job.runAt ?? job.insertedAt).getTime();

/**
 * Runs the queue's jobs in this process until none is left to run, in the
 * order workers claim them: priority, then due time, then id. A job
 * waiting for its `after` dependencies runs once they ended (or is
 * cancelled when one failed). `queue` is a queue name or a node type
 * ("datasync" drains `ad_hoc_datasync`); omit it to drain every queue.
 */
export async function drain(queue?: string, options: DrainOptions = {}): Promise<DrainSummary> {
  const runtime = activeRuntime("drain");
  const { scheduled = false, retries = true, recursive = true } = options;
  const inQueue = (job: EnqueuedJob) => queue === undefined || job.queue === queue || job.queue === `ad_hoc_${queue}`;
  const due = (job: EnqueuedJob) => scheduled || job.runAt === null || job.runAt.getTime() <= Date.now();
  const runnable = (job: EnqueuedJob, seen: Set<EnqueuedJob> | null) =>
    inQueue(job) && (seen === null || seen.has(job)) &&
    (job.state === "available" || (job.state === "scheduled" && due(job)) || (retries && job.state === "retryable"));
  const seen = recursive ? null : new Set(runtime.jobs);
  const touched = new Set<EnqueuedJob>();
  // A job that snoozed in this drain waits for the next one, or `scheduled: true` would spin on it.
  const snoozed = new Set<EnqueuedJob>();
  let attempts = 0;
  for (;;) {
    const next = runtime.jobs.filter((j) => runnable(j, seen) && !snoozed.has(j)).sort((a, b) => a.priority - b.priority || dueAt(a) - dueAt(b) || Number(a.id) - Number(b.id))[0];
    if (!next) break;
    if (++attempts > DRAIN_LIMIT) throw new DurableError("DURABLE_TESTING_DRAIN_LIMIT", `drain() ran ${DRAIN_LIMIT} attempts without emptying the queue; a job probably snoozes or re-enqueues itself forever.`);
    touched.add(next);
    if ((await runtime.attempt(next)).state === "scheduled") snoozed.add(next);
  }
  const count = (state: TestJobState) => [...touched].filter((j) => j.state === state).length;
  return { attempts, completed: count("completed"), discarded: count("discarded"), cancelled: count("cancelled"), retryable: count("retryable"), scheduled: count("scheduled") };
}

/**
 * Runs one attempt of a recorded job now, whatever its state or schedule,
 * and returns its outcome. Use it to step through retries one at a time.
 */
export async function runJob(job: JobHandle | EnqueuedJob | string): Promise<AttemptOutcome> {
  const runtime = activeRuntime("runJob");
  const found = runtime.find(job);
  if (found.state === "completed") {
    throw new DurableError("DURABLE_TESTING_COMPLETED", `job #${found.id} (${found.task}) already completed; a completed job never runs again.`);
  }
  return runtime.attempt(found);
}
