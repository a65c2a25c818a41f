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

/** Throws a hostile value chosen by name (hostileThrown in outcome.test.ts lists them). */
export const throwsHostile = def("hostile#throwsHostile", ["kind"], ({ kind }) => {
  throw hostileThrown(kind);
});

export function hostileThrown(kind) {
  switch (kind) {
    case "object message": return Object.assign(new Error("x"), { message: { code: 42 } });
    case "number stack": return Object.assign(new Error("x"), { stack: 12 });
    case "throwing getters": {
      const e = new Error("x");
      for (const key of ["stack", "message", "name", "code", "cause"]) Object.defineProperty(e, key, { get() { throw new Error(`getter ${key}`); } });
      return e;
    }
    case "huge message": return new Error("m".repeat(5_000_000));
    case "circular cause": {
      const a = new Error("a");
      const b = new Error("b", { cause: a });
      a.cause = b;
      return a;
    }
    case "null": return null;
    case "undefined": return undefined;
    case "symbol": return Symbol("thrown");
    case "bigint": return 10n;
    case "hostile toString": return { toString() { throw new Error("no"); }, toJSON() { throw new Error("no"); }, [Symbol.toPrimitive]() { throw new Error("no"); } };
    case "revoked proxy": {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    }
    case "proxy that throws on every access": return new Proxy(new Error("x"), { get() { throw new Error("trap"); }, getPrototypeOf() { throw new Error("trap"); } });
    case "NUL and lone surrogates in every field": return Object.assign(new Error("a\u0000b \ud83d"), { name: "Bad\u0000Name", stack: "at \udc00 x", code: "C\u0000" });
    case "a fake Snooze with a hostile delay": return { [Symbol.for("durable-async.outcome")]: "snooze", get delayMs() { throw new Error("no"); } };
    default: throw new Error(`unknown kind ${kind}`);
  }
}

/** Reports progress whose message holds what jsonb cannot store, then completes. */
export const oddProgress = def("hostile#oddProgress", ["message"], async ({ message }) => {
  const { progress } = (await import("../../dist/src/index.js")).durable.context();
  await progress({ done: 1, total: 2, message });
  return "done";
});
