// The stub registry's side of worker-side slices: a slice's stubs yield to
// the module's own, never the reverse; a failed lazy load is retried; cron
// modules are loaded once, only when their stubs are missing; and a cron entry
// registered by a slice is replaced by the module's own without an error.
import { describe, expect, it } from "vitest";
import { DuplicateTaskError } from "../../src/errors.js";
import { DurableInstance } from "../../src/instance.js";
import {
  __durableModules, __durableSliceTask, __durableTask, getStub, loadCronModules, resolveStub, type TaskDefinition,
} from "../../src/tasks/registry.js";

let counter = 0;
function definition(run: () => unknown, overrides: Partial<TaskDefinition> = {}): TaskDefinition {
  const id = overrides.id ?? `registry-test#${process.pid}#${counter++}`;
  return {
    id, hash: "0123456789abcdef", caller: { file: "src/jobs.ts", fn: null, line: 1, column: 1 },
    source: "() => 1", captures: [], kind: "async", run, ...overrides,
  };
}
const fromSlice = (): Set<string> => (globalThis as any)[Symbol.for("durable-async.registry")].fromSlice;

describe("stub registry and slices", () => {
  it("a module's own stub replaces its slice's; a slice never replaces the module's", () => {
    const slice = definition(() => "slice");
    expect(__durableSliceTask(slice).run({})).toBe("slice");
    expect(fromSlice().has(slice.id)).toBe(true);
    const own = __durableTask({ ...slice, run: () => "module" });
    expect(own.run({})).toBe("module");
    expect(getStub(slice.id)!.run({})).toBe("module");
    expect(fromSlice().has(slice.id)).toBe(false);
    // A slice loaded after the module gets the module's stub back.
    expect(__durableSliceTask({ ...slice, run: () => "late slice" }).run({})).toBe("module");
    expect(fromSlice().has(slice.id)).toBe(false);
  });

  it("a slice and a module that disagree on the body are refused, in either order", () => {
    const a = definition(() => 1);
    __durableSliceTask(a);
    expect(() => __durableTask({ ...a, hash: "fedcba9876543210" })).toThrow(DuplicateTaskError);
    const b = definition(() => 1);
    __durableTask(b);
    expect(() => __durableSliceTask({ ...b, hash: "fedcba9876543210" })).toThrow(DuplicateTaskError);
  });

  it("retries a lazy load that failed, instead of failing every later job", async () => {
    const task = definition(() => "loaded");
    let attempts = 0;
    __durableModules([{ tasks: [task], load: async () => {
      attempts++;
      if (attempts === 1) throw new Error("transient");
      __durableSliceTask(task);
    } }]);
    await expect(resolveStub(task.id)).rejects.toThrow("transient");
    await expect(resolveStub(task.id)).resolves.toMatchObject({ id: task.id });
    expect(attempts).toBe(2);
  });

  it("loads cron modules whose stubs are missing, once, and reports the ones that fail", async () => {
    const loaded: string[] = [];
    const present = definition(() => 1, { kind: "cron" });
    __durableTask(present);
    const missing = definition(() => 1, { kind: "cron" });
    const broken = definition(() => 1, { kind: "cron", caller: { file: "src/broken.ts", fn: null, line: 1, column: 1 } });
    __durableModules([
      { tasks: [present], load: async () => loaded.push("present"), cron: true },
      { tasks: [missing], load: async () => { loaded.push("missing"); __durableSliceTask(missing); }, cron: true },
      { tasks: [broken], load: async () => { throw new Error("cannot load"); }, cron: true },
      { tasks: [definition(() => 1)], load: async () => loaded.push("not cron") },
    ]);
    const failed = await loadCronModules();
    expect(loaded).toEqual(["missing"]);
    expect(failed.filter((f) => f.file === "src/broken.ts").map((f) => (f.error as Error).message)).toEqual(["cannot load"]);
    await loadCronModules();
    expect(loaded).toEqual(["missing"]);
  });

  it("a cron entry registered by a slice is replaced by the module's own, and one stub twice is still an error", () => {
    const d = new DurableInstance({ run: false, handleSignals: false });
    const task = definition(() => 1, { kind: "cron" });
    const sliceStub = __durableSliceTask(task);
    d.cron("0 * * * *", sliceStub, {}, { name: `entry-${task.id}` });
    const ownStub = __durableTask({ ...task });
    expect(() => d.cron("0 * * * *", ownStub, {}, { name: `entry-${task.id}` })).not.toThrow();
    expect(() => d.cron("0 * * * *", ownStub, {}, { name: `entry-${task.id}` })).toThrow(/already used/);
  });
});
