// Task stubs of the steps bench, written by hand as the transformer emits
// them (docs/INTERNALS.md), so the bench needs no build step of its own.
import { __durableTask, durable } from "../../dist/src/index.js";

const def = (id, captures, run) =>
  __durableTask({ id, hash: "h-" + id, caller: { file: "bench/steps/tasks.mjs", fn: "bench", line: 1, column: 1 }, source: "() => …", captures, kind: "async", run });

/** A child that does nothing but return: the bench measures the machinery. */
export const child = def("bench-steps#child", ["n"], ({ n }) => n);

/** Creates `count` children in one turn and awaits them all. */
export const fanOut = def("bench-steps#fanOut", ["count"], async ({ count }) => {
  const handles = [];
  for (let i = 0; i < count; i++) handles.push(durable.async(child, { n: i }));
  const results = await durable.awaitAll(handles);
  return results.reduce((a, b) => a + b, 0);
});

/** Awaits `count` children one after the other. */
export const chain = def("bench-steps#chain", ["count"], async ({ count }) => {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += await durable.run(child, { n: i });
  return sum;
});

/** `count` inline steps. */
export const inline = def("bench-steps#inline", ["count"], async ({ count }) => {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += await durable.step(() => i);
  return sum;
});
