import { afterEach, describe, expect, it } from "vitest";
import { __durableTask, durable, Discard, Snooze, JobFailedError, NotSerializableError, type AsyncOptions, type JobHandle, type TaskStub } from "../../src/index.js";
import {
  allEnqueued, assertEnqueued, clearEnqueued, drain, EnqueuedAssertionError, refuteEnqueued, runJob, stopTestingMode, useTestingMode,
} from "../../src/testing/index.js";

// Stubs written as the transformer emits them (docs/INTERNALS.md), so these
// tests pin the testing helpers without depending on the transformer.
const def = (id: string, captures: string[], run: (c: any) => unknown): TaskStub =>
  __durableTask({ id, hash: `h-${id}`, caller: { file: "test/testing/testing.test.ts", fn: id.split("#")[1] ?? null, line: 1, column: 1 }, source: "() => …", captures, kind: "async", run });

const sent: string[] = [];
const sendWelcome = def("src/users.ts#registerUser#0", ["user"], ({ user }) => {
  sent.push(user.email);
  return `sent to ${user.email}`;
});
const flaky = def("src/flaky.ts#flaky#0", ["failures"], ({ failures }) => {
  const { attempt } = durable.context();
  if (attempt <= failures) throw new Error(`attempt ${attempt} failed`);
  return attempt;
});
const describeCaptures = def("src/types.ts#types#0", ["when", "ids", "big"], ({ when, ids, big }) => ({
  isDate: when instanceof Date, isSet: ids instanceof Set, bigint: typeof big,
}));
const fanOut = def("src/cron.ts#fanOut#0", ["orgs"], async ({ orgs }) => {
  for (const org of orgs) await transformed.async(child, { org }, { meta: { org }, nodeType: "datasync" });
  return orgs.length;
});
const child = def("src/cron.ts#fanOut#1", ["org"], ({ org }) => `synced ${org}`);
const giveUp = def("src/give-up.ts#giveUp#0", [], () => {
  throw new Discard("no such mailbox");
});
const snoozer = def("src/snooze.ts#snoozer#0", [], () => {
  throw new Snooze("1h");
});
const returnsFunction = def("src/bad.ts#bad#0", [], () => () => 1);

// The facade as transformed code calls it: (stub, captures, options).
const transformed = durable as unknown as {
  async(stub: TaskStub, captures: Record<string, unknown>, options?: AsyncOptions): Promise<JobHandle>;
  run(stub: TaskStub, captures: Record<string, unknown>, options?: AsyncOptions): Promise<any>;
};

afterEach(() => {
  stopTestingMode();
  sent.length = 0;
});

describe("manual mode", () => {
  it("records jobs without running them and matches task, meta and captures", async () => {
    useTestingMode("manual");
    const job = await transformed.async(sendWelcome, { user: { email: "ada@example.com", id: 7 } }, { meta: { orgId: 3 }, tags: ["welcome"] });
    expect(job).toMatchObject({ task: "src/users.ts#registerUser#0", queue: "ad_hoc_worker", state: "available", conflict: false });
    expect(sent).toEqual([]);
    assertEnqueued({ task: "registerUser", captures: { user: { email: "ada@example.com" } }, meta: { orgId: 3 } });
    assertEnqueued({ task: "src/users.ts#registerUser#0", tags: ["welcome"] });
    assertEnqueued({ task: /registerUser/, nodeType: "worker" });
    refuteEnqueued({ task: "registerUser", meta: { orgId: 4 } });
    expect(allEnqueued()).toHaveLength(1);
  });

  it("explains a failed assertion by listing what was enqueued", async () => {
    useTestingMode("manual");
    await transformed.async(sendWelcome, { user: { email: "ada@example.com", id: 7 } });
    expect(() => assertEnqueued({ task: "registerUser", captures: { user: { id: 8 } } })).toThrow(EnqueuedAssertionError);
    expect(() => assertEnqueued({ task: "registerUser", captures: { user: { id: 8 } } })).toThrow(/#\d+ src\/users.ts#registerUser#0 .*ada@example.com/);
    expect(() => refuteEnqueued({ task: "registerUser" })).toThrow(/found 1/);
  });

  it("drains a queue, retrying failed attempts at once, and runs what drained jobs enqueue", async () => {
    useTestingMode("manual");
    await transformed.async(flaky, { failures: 2 }, { maxAttempts: 5 });
    await transformed.async(fanOut, { orgs: [1, 2] });
    expect(await drain("worker")).toMatchObject({ completed: 2, attempts: 4 });
    assertEnqueued({ task: "src/cron.ts#fanOut#1", state: "available", nodeType: "datasync", meta: { org: 2 } });
    expect(await drain("datasync")).toMatchObject({ completed: 2 });
    expect(allEnqueued({ state: "completed" })).toHaveLength(4);
    const [first] = allEnqueued({ task: "flaky" });
    expect(first!.errors.map((e) => e.message)).toEqual(["attempt 1 failed", "attempt 2 failed"]);
    expect(await durable.await(first!.id)).toBe(3);
  });

  it("runJob steps through one attempt at a time", async () => {
    useTestingMode("manual");
    const job = await transformed.async(flaky, { failures: 1 }, { maxAttempts: 3 });
    expect(await runJob(job)).toMatchObject({ state: "retryable", error: { message: "attempt 1 failed" } });
    expect(await runJob(job)).toEqual({ state: "completed", result: 2 });
    await expect(runJob(job)).rejects.toThrow(/already completed/);
  });

  it("awaiting a job that has not run says how to run it", async () => {
    useTestingMode("manual");
    const job = await transformed.async(sendWelcome, { user: { email: "b@example.com", id: 1 } });
    await expect(durable.await(job)).rejects.toThrow(/drain\("ad_hoc_worker"\) or runJob/);
  });

  it("leaves scheduled jobs alone unless asked, and records snoozes", async () => {
    useTestingMode("manual");
    await transformed.async(sendWelcome, { user: { email: "later@example.com", id: 1 } }, { delay: "1h" });
    await transformed.async(snoozer, {});
    expect(await drain()).toMatchObject({ scheduled: 1, completed: 0 });
    assertEnqueued({ task: "registerUser", state: "scheduled" });
    expect((await drain("worker", { scheduled: true, recursive: false })).completed).toBe(1);
    expect(sent).toEqual(["later@example.com"]);
  });

  it("durable.bulk resolves with the handles of the calls made inside it", async () => {
    useTestingMode("manual");
    const handles = await durable.bulk(async () => {
      for (const email of ["a@example.com", "b@example.com"]) void transformed.async(sendWelcome, { user: { email, id: 1 } });
    });
    expect(handles.map((h) => h.task)).toEqual(["src/users.ts#registerUser#0", "src/users.ts#registerUser#0"]);
    expect(allEnqueued()).toHaveLength(2);
  });

  it("applies uniqueness in memory: a conflicting call returns the first job", async () => {
    useTestingMode("manual");
    const options = { maxAttempts: 1, meta: { sender: "x@example.com" }, unique: { by: ["meta" as const], period: "24h" } };
    const first = await transformed.async(sendWelcome, { user: { email: "x@example.com", id: 1 } }, options);
    const second = await transformed.async(sendWelcome, { user: { email: "x@example.com", id: 2 } }, options);
    expect(second).toMatchObject({ id: first.id, conflict: true });
    expect(allEnqueued()).toHaveLength(1);
    clearEnqueued();
    expect(allEnqueued()).toHaveLength(0);
  });
});

describe("inline mode", () => {
  it("runs the closure before durable.async resolves, with a real serialization round trip", async () => {
    useTestingMode("inline");
    const job = await transformed.async(describeCaptures, { when: new Date(0), ids: new Set([1]), big: 10n });
    expect(job.state).toBe("completed");
    expect(await durable.await(job)).toEqual({ isDate: true, isSet: true, bigint: "bigint" });
    expect(await transformed.run(sendWelcome, { user: { email: "c@example.com", id: 3 } })).toBe("sent to c@example.com");
    expect(sent).toEqual(["c@example.com"]);
  });

  it("fails the user's test when a capture cannot survive serialization", () => {
    useTestingMode("inline");
    class Session {
      constructor(readonly token: string) {}
    }
    expect(() => transformed.async(sendWelcome, { user: { email: "d@example.com", session: new Session("t") } })).toThrow(NotSerializableError);
    expect(() => transformed.async(sendWelcome, { user: { email: "d@example.com", onDone: () => 1 } })).toThrow(/captures\.user\.onDone is a function/);
  });

  it("records the outcome of a closure whose result cannot be serialized, or that gives up", async () => {
    useTestingMode("inline");
    const bad = await transformed.async(returnsFunction, {}, { maxAttempts: 2 });
    expect(bad.state).toBe("discarded");
    await expect(durable.await(bad)).rejects.toBeInstanceOf(JobFailedError);
    // Not retried: another attempt would redo the work for the same unstorable value.
    expect(assertEnqueued({ task: "bad" }).errors.map((e) => e.message)).toEqual([expect.stringMatching(/result is a function/)]);
    const gone = await transformed.async(giveUp, {});
    expect(gone.state).toBe("discarded");
    expect(allEnqueued({ task: "giveUp" })[0]!.attempt).toBe(1);
  });

  it("runs nested jobs inline too, and retries until success", async () => {
    useTestingMode("inline");
    expect(await transformed.run(fanOut, { orgs: ["a", "b", "c"] })).toBe(3);
    expect(allEnqueued({ task: "src/cron.ts#fanOut#1", state: "completed" })).toHaveLength(3);
    expect(await transformed.run(flaky, { failures: 2 }, { maxAttempts: 3 })).toBe(3);
  });

  it("rejects unknown options and node types as the real runtime does", () => {
    useTestingMode("inline");
    expect(() => transformed.async(sendWelcome, { user: {} }, { nodeType: "datasink" })).toThrow(/did you mean "datasync"/i);
    expect(() => transformed.async(sendWelcome, { user: {} }, { maxAttemps: 3 } as AsyncOptions)).toThrow(/maxAttempts/);
  });
});

describe("without a testing mode", () => {
  it("helpers explain how to turn one on", () => {
    expect(() => allEnqueued()).toThrow(/useTestingMode/);
  });
});
