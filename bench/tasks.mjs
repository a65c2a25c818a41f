// The benchmark's durable task stubs, written exactly as the transformer
// emits them (docs/INTERNALS.md), so the parent and every worker child
// register the same task ids. `hooks.job` is set by the worker child.
import { distUrl } from "./lib/dist.mjs";

const { __durableTask } = await import(distUrl("src/index.js"));

export const hooks = { job: (_payload) => undefined };

export const noop = __durableTask({
  id: "bench#noop",
  hash: "bench-noop-v1",
  caller: { file: "bench/tasks.mjs", fn: null, line: 8, column: 1 },
  source: "() => hooks.job({ seq })",
  captures: ["seq"],
  kind: "async",
  run: ({ seq }) => hooks.job({ seq }),
});
