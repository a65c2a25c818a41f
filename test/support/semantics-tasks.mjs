// Task stubs for the issue 4 semantics tests (uniqueness, cron, control,
// limits), written as the transformer emits them. Plain .mjs importing dist/,
// so child processes load the very same stubs.
import { __durableTask, durable } from "../../dist/src/index.js";

const def = (id, captures, run, kind = "async") =>
  __durableTask({ id, hash: "h-" + id, caller: { file: "test/support/semantics-tasks.mjs", fn: "semantics", line: 1, column: 1 }, source: "() => …", captures, kind, run });

/** Replies to a sender; fails for senders named "bounce" (so the job is discarded with maxAttempts: 1). */
export const replyToUnknown = def("semantics#replyToUnknown", ["sender"], ({ sender }) => {
  if (sender.startsWith("bounce")) throw new Error(`cannot deliver to ${sender}`);
  return `replied to ${sender}`;
});

export const echo = def("semantics#echo", ["value"], ({ value }) => value);

/** Every cron tick of the tests enqueues this. */
export const cronTick = def("semantics#cronTick", [], () => "tick", "cron");

/** Signals (in this process) which jobs saw their signal abort, and why. */
export const aborted = [];
export const started = [];
export const waitForCancel = def("semantics#waitForCancel", [], () => {
  const { signal, jobId } = durable.context();
  started.push(jobId);
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => {
      aborted.push({ jobId, reason: signal.reason });
      reject(signal.reason);
    }, { once: true });
  });
});

/** Tracks how many closures run at once in this process (all test nodes share it). */
export const concurrency = { now: 0, max: 0 };
export const hold = def("semantics#hold", ["ms"], async ({ ms }) => {
  concurrency.now++;
  concurrency.max = Math.max(concurrency.max, concurrency.now);
  try {
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    concurrency.now--;
  }
  return ms;
});

/** Cron fan-out: each tick enqueues one unique child per organisation (the test sets the instance and orgs). */
export const fanOutTarget = { instance: null, orgs: [] };
export const syncOrg = def("semantics#syncOrg", ["orgId"], ({ orgId }) => orgId);
export const fanOut = def("semantics#fanOut", [], async () => {
  const handles = await fanOutTarget.instance.asyncMany(
    fanOutTarget.orgs.map((orgId) => [syncOrg, { orgId }, { meta: { orgId }, unique: { period: "1h" } }]),
  );
  return handles.filter((h) => !h.conflict).length;
}, "cron");
