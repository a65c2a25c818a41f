// Stubs for the facade lifecycle tests, written as the transformer emits them.
import { __durableTask } from "../../dist/src/index.js";

const def = (id, captures, run) =>
  __durableTask({ id, hash: "h-" + id, caller: { file: "test/support/facade-tasks.mjs", fn: "facade", line: 1, column: 1 }, source: "() => …", captures, kind: "async", run });

export const echo = def("facade#echo", ["value"], ({ value }) => value);

/** Waits for `gate.open()`, then enqueues a follow-up through `gate.enqueue` (set by the test). */
export const gate = { release: null, enqueue: null, started: null };
export const finishThenFollowUp = def("facade#finishThenFollowUp", ["value"], async ({ value }) => {
  await new Promise((resolve) => {
    gate.release = resolve;
    gate.started?.();
  });
  const handle = await gate.enqueue(value);
  return handle.id;
});
