import { afterEach, describe, expect, it } from "vitest";
import { __durableTask, durable, type AsyncOptions, type JobHandle, type TaskStub } from "../../src/index.js";
import { assertEnqueued, stopTestingMode, useTestingMode } from "../../src/testing/index.js";

// The testing modes decide outcomes with the runner's own rules
// (src/runner/outcome.ts): the result cap, exact values, hostile throws.

const def = (id: string, captures: string[], run: (c: any) => unknown): TaskStub =>
  __durableTask({ id, hash: `h-${id}`, caller: { file: "test/testing/outcomes.test.ts", fn: null, line: 1, column: 1 }, source: "() => …", captures, kind: "async", run });

const big = def("testing-outcomes#big", ["n"], ({ n }) => "x".repeat(n));
const echo = def("testing-outcomes#echo", ["value"], ({ value }) => value);
const throwsNull = def("testing-outcomes#throwsNull", [], () => {
  throw null;
});

const transformed = durable as unknown as {
  async(stub: TaskStub, captures: Record<string, unknown>, options?: AsyncOptions): Promise<JobHandle>;
  run(stub: TaskStub, captures: Record<string, unknown>, options?: AsyncOptions): Promise<any>;
};

afterEach(() => stopTestingMode());

describe("outcomes in the testing modes", () => {
  it("a result over maxResultBytes discards the job at once, as on a worker", async () => {
    useTestingMode("inline", { maxResultBytes: 100 });
    const job = await transformed.async(big, { n: 1_000 }, { maxAttempts: 2 });
    expect(job.state).toBe("discarded");
    expect(assertEnqueued({ task: "testing-outcomes#big" }).errors.map((e) => e.code)).toEqual(["DURABLE_RESULT_TOO_LARGE"]);
    expect(await transformed.run(big, { n: 10 })).toBe("x".repeat(10));
  });

  it("values come back exactly: key order, -0, holes, NUL", async () => {
    useTestingMode("inline");
    const value = { zeta: 1, a: [-0, , "\u0000"], constructor: new Date(0) };
    const back = await transformed.run(echo, { value });
    expect(Object.keys(back)).toEqual(["zeta", "a", "constructor"]);
    expect(Object.is(back.a[0], -0)).toBe(true);
    expect(1 in back.a).toBe(false);
    expect(back.a[2]).toBe("\u0000");
    expect(back.constructor).toEqual(new Date(0));
  });

  it("a thrown null is recorded and spends the attempt", async () => {
    useTestingMode("inline");
    const job = await transformed.async(throwsNull, {}, { maxAttempts: 1 });
    expect(job.state).toBe("discarded");
    expect(assertEnqueued({ task: "testing-outcomes#throwsNull" }).errors[0]).toMatchObject({ attempt: 1, message: "non-error thrown: null" });
  });
});
