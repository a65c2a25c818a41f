// Task stubs for the hostile-input tests, written as the transformer emits them.
import { __durableTask } from "../../dist/src/index.js";

const def = (id, captures, run) =>
  __durableTask({ id, hash: "h-" + id, caller: { file: "test/support/hostile-tasks.mjs", fn: "hostile", line: 1, column: 1 }, source: "() => …", captures, kind: "async", run });

/** Reports what it was handed: own keys of the captures and whether any prototype looks polluted. */
export const probe = def("hostile#probe", ["value"], (captures) => ({
  keys: Object.keys(captures).sort(),
  type: Array.isArray(captures.value) ? "array" : captures.value === null ? "null" : typeof captures.value,
  polluted: ({}).polluted !== undefined || [].polluted !== undefined || Object.keys(Object.prototype).length > 0,
}));

export const sum = def("hostile#sum", ["a", "b"], ({ a, b }) => a + b);

export const throws = def("hostile#throws", [], () => {
  throw new Error("always fails");
});
