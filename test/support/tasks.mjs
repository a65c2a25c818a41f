// Task stubs written by hand exactly as the transformer emits them (see
// docs/INTERNALS.md), so runtime tests do not depend on the transformer.
// Plain .mjs importing dist/, so child worker processes load the same file.
import { __durableTask, durable, Discard, Cancel, Snooze } from "../../dist/src/index.js";

const def = (id, captures, run, source = "() => …") =>
  __durableTask({ id, hash: "h-" + id, caller: { file: "test/support/tasks.mjs", fn: "tests", line: 1, column: 1 }, source, captures, kind: "async", run });

export const calls = [];

export const echo = def("test#echo", ["value"], ({ value }) => value);
export const add = def("test#add", ["a", "b"], ({ a, b }) => a + b);
export const record = def("test#record", ["n"], ({ n }) => { calls.push(n); return n; });
export const fail = def("test#fail", ["message"], ({ message }) => { throw new Error(message); });
export const failUntil = def("test#failUntil", ["okAt"], () => {
  const { attempt } = durable.context();
  if (attempt < 3) throw new Error(`boom on attempt ${attempt}`);
  return attempt;
});
export const discard = def("test#discard", [], () => { throw new Discard("not worth retrying"); });
export const cancel = def("test#cancel", [], () => { throw new Cancel("user left"); });
export const snoozeOnce = def("test#snoozeOnce", [], () => {
  const { attempt, jobId } = durable.context();
  if (!snoozed.has(jobId)) { snoozed.add(jobId); throw new Snooze(200); }
  return attempt;
});
const snoozed = new Set();
export const waitForAbort = def("test#waitForAbort", [], () => {
  const { signal } = durable.context();
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
});
export const sleep = def("test#sleep", ["ms"], ({ ms }) => new Promise((r) => setTimeout(() => r(ms), ms)));
export const big = def("test#big", ["bytes"], ({ bytes }) => "x".repeat(bytes));
export const returnsFunction = def("test#returnsFunction", [], () => () => 1);
export const context = def("test#context", [], () => {
  const c = durable.context();
  return { jobId: c.jobId, attempt: c.attempt, queue: c.queue, task: c.task, meta: c.meta, aborted: c.signal.aborted };
});
export const pid = def("test#pid", ["n"], async ({ n }) => ({ n, pid: process.pid }));
export const blockThenPid = def("test#blockThenPid", ["marker"], async ({ marker }) => {
  process.send?.({ started: marker, pid: process.pid });
  await new Promise((r) => setTimeout(r, 60_000));
  return process.pid;
});
export const progress = def("test#progress", [], async () => {
  const { progress } = durable.context();
  for (let i = 1; i <= 4; i++) await progress({ done: i, total: 4, message: `row ${i}` });
  await new Promise((r) => setTimeout(r, 600));
  return "done";
});
export const progressThenReturn = def("test#progressThenReturn", [], async () => {
  const { progress } = durable.context();
  for (let i = 1; i <= 4; i++) await progress({ done: i, total: 4 });
  return "done"; // within the 500 ms throttle of the last write: the final update must still land
});
