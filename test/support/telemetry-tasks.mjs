// Task stubs for telemetry tests, written as the transformer emits them.
import { trace, context } from "@opentelemetry/api";
import { __durableTask } from "../../dist/src/index.js";

export const activeSpan = __durableTask({
  id: "test#activeSpan", hash: "h-test#activeSpan", caller: { file: "test/support/telemetry-tasks.mjs", fn: "tests", line: 1, column: 1 },
  source: "() => trace.getSpanContext(context.active())", captures: [], kind: "async",
  run: () => {
    const ctx = trace.getSpanContext(context.active());
    return ctx ? { traceId: ctx.traceId, spanId: ctx.spanId } : null;
  },
});
