import { afterEach, describe, expect, it } from "vitest";
import { __durableTask, durable, JobCancelledError, JobFailedError, Snooze, type AsyncOptions, type JobHandle, type TaskStub } from "../../src/index.js";
import { allEnqueued, assertEnqueued, drain, runJob, stopTestingMode, useTestingMode, type TestingModeName } from "../../src/testing/index.js";

// Where the testing modes used to part from the real runtime (src/steps,
// src/unique, the claim order): `after` dependencies, unique.replace and
// debounce, the step journal on retries, snoozes in inline mode, and the
// order drain() runs jobs in.

const def = (id: string, captures: string[], run: (c: any) => unknown): TaskStub =>
  __durableTask({ id, hash: `h-${id}`, caller: { file: "test/testing/runtime-parity.test.ts", fn: id.split("#")[1] ?? null, line: 1, column: 1 }, source: "() => …", captures, kind: "async", run });

const transformed = durable as unknown as {
  async(stub: TaskStub, captures: Record<string, unknown>, options?: AsyncOptions): Promise<JobHandle>;
  run(stub: TaskStub, captures: Record<string, unknown>, options?: AsyncOptions): Promise<any>;
};

const ran: string[] = [];
const counts = new Map<string, number>();
const bump = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);

const named = def("src/parity.ts#named#0", ["name"], ({ name }) => {
  ran.push(name);
  return name;
});
const failing = def("src/parity.ts#failing#0", ["name"], ({ name }) => {
  ran.push(name);
  throw new Error(`${name} failed`);
});
const quick = def("src/parity.ts#quick#0", ["value"], ({ value }) => {
  ran.push(value);
  return value;
});
const stepped = def("src/parity.ts#stepped#0", [], async () => {
  const { attempt } = durable.context();
  const first = await durable.step(() => {
    bump("s1");
    return { at: new Date(1000), attempt };
  });
  await durable.step(() => {
    bump("s2");
    if (attempt === 1) throw new Error("s2 fails on attempt 1");
  });
  return first;
});
const leaf = def("src/parity.ts#leaf#0", ["n"], ({ n }) => {
  bump(`child${n}`);
  if (n === 1) throw new Error("child 1 fails");
  return n;
});
const parent = def("src/parity.ts#parent#0", [], async () => {
  bump("parent");
  const handles = [0, 1].map((n) => transformed.async(leaf, { n }, { maxAttempts: 1 }));
  return durable.awaitAll(handles);
});
let divergeOnce = true;
const diverging = def("src/parity.ts#diverging#0", [], async () => {
  if (divergeOnce) {
    divergeOnce = false;
    await durable.step(() => 1, { name: "first" });
    throw new Error("retry me");
  }
  await durable.step(() => 2, { name: "other" });
  return "unreachable";
});
let snoozes = 0;
const snoozeOnce = def("src/parity.ts#snoozeOnce#0", [], () => {
  if (snoozes++ === 0) throw new Snooze("1s");
  return { attempt: durable.context().attempt, snoozes };
});
const snoozeForever = def("src/parity.ts#snoozeForever#0", [], () => {
  throw new Snooze("1h");
});

let sleeps = 0;
const sleepsThenFails = def("src/parity.ts#sleepsThenFails#0", [], async () => {
  await durable.sleep(150);
  if (sleeps++ === 0) throw new Error("fails after its sleep");
  return "slept once";
});
const selfAwait = def("src/parity.ts#selfAwait#0", [], async () => durable.await(durable.context().jobId));
let parentId = "";
const awaitsParent = def("src/parity.ts#awaitsParent#0", [], async () => {
  try {
    return await durable.await(parentId);
  } catch (error) {
    return (error as Error).message;
  }
});
const createsChildThatAwaitsIt = def("src/parity.ts#createsChild#0", [], async () => {
  parentId = durable.context().jobId;
  return transformed.run(awaitsParent, {});
});

const slow = def("src/parity.ts#slow#0", [], async () => {
  await new Promise((resolve) => setTimeout(resolve, 150));
  bump("slow");
  return "slow done";
});
let timedAttempts = 0;
const timedParent = def("src/parity.ts#timedParent#0", ["timeout"], async ({ timeout }) => {
  const handle = await transformed.async(slow, {});
  let outcome: unknown;
  try {
    outcome = await durable.await(handle, { timeout });
  } catch (error) {
    outcome = (error as { code?: string }).code;
  }
  if (timedAttempts++ === 0) throw new Error("retry to replay the timed await");
  return outcome;
});

afterEach(() => {
  stopTestingMode();
  ran.length = 0;
  counts.clear();
  divergeOnce = true;
  snoozes = 0;
  sleeps = 0;
  timedAttempts = 0;
});

describe.each(["inline", "manual"] as TestingModeName[])("%s mode: `after` dependencies", (mode) => {
  const run = async () => {
    if (mode === "manual") await drain();
  };

  it("a dependent waits for its dependency, and is cancelled when it fails", async () => {
    useTestingMode(mode);
    const a = await transformed.async(failing, { name: "A" }, { priority: 9, maxAttempts: 1 });
    const b = await transformed.async(named, { name: "B" }, { after: [a], priority: 0 });
    if (mode === "manual") expect(b.state).toBe("waiting");
    await run();
    expect(ran).toEqual(["A"]);
    const job = assertEnqueued({ task: "named" });
    expect(job.state).toBe("cancelled");
    expect(job.errors).toEqual([expect.objectContaining({ code: "DURABLE_DEPENDENCY_FAILED", name: "DependencyFailedError" })]);
    expect(job.errors[0]!.message).toMatch(new RegExp(`^job ${a.id}, which this job runs after, was discarded; this job was cancelled without running`));
    await expect(durable.await(b)).rejects.toBeInstanceOf(JobCancelledError);
  });

  it("runs after its dependency completed, whatever the priorities", async () => {
    useTestingMode(mode);
    const a = await transformed.async(named, { name: "A" }, { priority: 9 });
    await transformed.async(named, { name: "B" }, { after: [a], priority: 0 });
    await run();
    expect(ran).toEqual(["A", "B"]);
    expect(allEnqueued({ state: "completed" })).toHaveLength(2);
  });

  it('afterFailure: "run" runs it once the dependency failed', async () => {
    useTestingMode(mode);
    const a = await transformed.async(failing, { name: "A" }, { priority: 9, maxAttempts: 1 });
    const b = await transformed.async(named, { name: "B" }, { after: [a], afterFailure: "run", priority: 0 });
    await run();
    expect(ran).toEqual(["A", "B"]);
    expect(await durable.await(b)).toBe("B");
  });
});

describe("manual mode: several dependencies", () => {
  it("waits for every dependency; a failed one cancels it even while another is unfinished", async () => {
    useTestingMode("manual");
    const a = await transformed.async(named, { name: "A" });
    const c = await transformed.async(named, { name: "C" }, { delay: "1h" });
    const b = await transformed.async(named, { name: "B" }, { after: [a, c] });
    await drain();
    expect(ran).toEqual(["A"]);
    await expect(durable.await(b)).rejects.toThrow(/has no result yet/);
    assertEnqueued({ task: "named", captures: { name: "B" }, state: "waiting" });
    await drain(undefined, { scheduled: true });
    expect(ran).toEqual(["A", "C", "B"]);
    const x = await transformed.async(failing, { name: "X" }, { maxAttempts: 1 });
    const y = await transformed.async(named, { name: "Y" }, { delay: "1h" });
    const z = await transformed.async(named, { name: "Z" }, { after: [x, y] });
    await runJob(x);
    expect(assertEnqueued({ captures: { name: "Z" } }).state).toBe("cancelled");
    await expect(durable.await(z)).rejects.toBeInstanceOf(JobCancelledError);
    expect(assertEnqueued({ captures: { name: "Y" } }).state).toBe("scheduled");
    expect(y.state).toBe("scheduled");
  });
});

describe("inline mode: jobs that wait", () => {
  it("a job inserted after one that is due later runs when that one runs", async () => {
    useTestingMode("inline");
    const a = await transformed.async(named, { name: "A" }, { delay: "1h" });
    const b = await transformed.async(named, { name: "B" }, { after: [a] });
    expect([a.state, b.state]).toEqual(["scheduled", "waiting"]);
    expect(ran).toEqual([]);
    expect(await durable.await(b)).toBe("B");
    expect(ran).toEqual(["A", "B"]);
  });
});

describe.each(["inline", "manual"] as TestingModeName[])("%s mode: unique.replace and debounce", (mode) => {
  it("unique.replace overwrites the fields of a job that has not started", async () => {
    useTestingMode(mode);
    const unique = { by: ["task" as const, "meta" as const], replace: ["priority" as const, "tags" as const, "max_attempts" as const, "captures" as const, "scheduled_at" as const] };
    const first = await transformed.async(quick, { value: "old" }, { unique, meta: { k: 1 }, priority: 5, tags: ["a"], maxAttempts: 3, delay: "1h" });
    const due = assertEnqueued({ task: "quick" }).runAt!.getTime();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await transformed.async(quick, { value: "new" }, { unique, meta: { k: 1 }, priority: 2, tags: ["b"], maxAttempts: 7, delay: "1h" });
    expect(second).toMatchObject({ id: first.id, conflict: true, state: "scheduled" });
    expect(allEnqueued()).toHaveLength(1);
    const job = assertEnqueued({ task: "quick" });
    expect(job).toMatchObject({ priority: 2, tags: ["b"], maxAttempts: 7, captures: { value: "new" }, state: "scheduled" });
    expect(job.runAt!.getTime()).toBeGreaterThan(due);
    expect(ran).toEqual([]);
    await drain(undefined, { scheduled: true });
    expect(ran).toEqual(["new"]);
  });

  it("debounce runs once, with the last call's captures", async () => {
    useTestingMode(mode);
    const first = await transformed.async(quick, { value: "1" }, { debounce: "2s", meta: { r: 1 } });
    const second = await transformed.async(quick, { value: "2" }, { debounce: "2s", meta: { r: 1 } });
    expect(second).toMatchObject({ id: first.id, conflict: true });
    expect(ran).toEqual([]);
    if (mode === "manual") await drain(undefined, { scheduled: true });
    expect(await durable.await(first)).toBe("2");
    expect(ran).toEqual(["2"]);
    // Once it ran, the next call enqueues a new job.
    const third = await transformed.async(quick, { value: "3" }, { debounce: "2s", meta: { r: 1 } });
    expect(third.conflict).toBe(false);
  });
});

describe("inline mode: jobs due later", () => {
  it("runs a debounced job when it comes due, without an await", async () => {
    useTestingMode("inline");
    await transformed.async(quick, { value: "1" }, { debounce: 30, meta: { r: 2 } });
    await transformed.async(quick, { value: "2" }, { debounce: 30, meta: { r: 2 } });
    expect(ran).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(ran).toEqual(["2"]);
    expect(assertEnqueued({ task: "quick" }).state).toBe("completed");
  });

  it("stopTestingMode forgets the timers of jobs due later", async () => {
    useTestingMode("inline");
    await transformed.async(quick, { value: "never" }, { delay: 20 });
    stopTestingMode();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(ran).toEqual([]);
  });
});

describe.each(["inline", "manual"] as TestingModeName[])("%s mode: the step journal", (mode) => {
  const finish = async (handle: JobHandle) => {
    if (mode === "manual") await drain();
    return durable.await(handle);
  };

  it("an inline step that succeeded is not run again on the retry; its recorded value comes back", async () => {
    useTestingMode(mode);
    const job = await transformed.async(stepped, {}, { maxAttempts: 3 });
    expect(await finish(job)).toEqual({ at: new Date(1000), attempt: 1 });
    expect(Object.fromEntries(counts)).toEqual({ s1: 1, s2: 2 });
    expect(assertEnqueued({ task: "stepped" }).attempt).toBe(2);
  });

  it("children are created once and reused by the retry", async () => {
    useTestingMode(mode);
    const job = await transformed.async(parent, {}, { maxAttempts: 2 });
    await expect(finish(job)).rejects.toBeInstanceOf(JobFailedError);
    expect(allEnqueued({ task: "leaf" })).toHaveLength(2);
    expect(Object.fromEntries(counts)).toEqual({ parent: 2, child0: 1, child1: 1 });
    expect(assertEnqueued({ task: "parent" })).toMatchObject({ state: "discarded", attempt: 2 });
  });

  it("a replay that takes another step fails with NondeterminismError, without a further retry", async () => {
    useTestingMode(mode);
    const job = await transformed.async(diverging, {}, { maxAttempts: 5 });
    await expect(finish(job)).rejects.toBeInstanceOf(JobFailedError);
    const recorded = assertEnqueued({ task: "diverging" });
    expect(recorded).toMatchObject({ state: "discarded", attempt: 2 });
    expect(recorded.errors.at(-1)).toMatchObject({ code: "DURABLE_NONDETERMINISM" });
  });
});

describe("the step journal: timers and awaits that cannot end", () => {
  it("a durable.sleep that was due is not slept again on the retry", async () => {
    useTestingMode("inline");
    const started = Date.now();
    expect(await transformed.run(sleepsThenFails, {}, { maxAttempts: 2 })).toBe("slept once");
    expect(Date.now() - started).toBeLessThan(290);
  });

  it.each(["inline", "manual"] as TestingModeName[])("%s mode: a job awaiting itself, or a child awaiting its running parent, fails instead of hanging", async (mode) => {
    useTestingMode(mode);
    const self = await transformed.async(selfAwait, {}, { maxAttempts: 1 });
    if (mode === "manual") await drain();
    expect(assertEnqueued({ task: "selfAwait" }).errors[0]!.message).toMatch(/would never end/);
    await expect(durable.await(self)).rejects.toBeInstanceOf(JobFailedError);
    const parentJob = await transformed.async(createsChildThatAwaitsIt, {}, { maxAttempts: 1 });
    if (mode === "manual") await drain();
    expect(await durable.await(parentJob)).toMatch(/has no result yet/);
  });
});

describe("manual mode: a timed await inside a job", () => {
  it("times out when the awaited job has not ended by its journaled deadline, on the replay too", async () => {
    useTestingMode("manual");
    const job = await transformed.async(timedParent, { timeout: 50 }, { maxAttempts: 2 });
    await drain("worker", { recursive: false });
    expect(await durable.await(job)).toBe("DURABLE_AWAIT_TIMEOUT");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(counts.get("slow")).toBe(1);
  });

  it("returns the result of a job that ended within it", async () => {
    useTestingMode("manual");
    const job = await transformed.async(timedParent, { timeout: "5s" }, { maxAttempts: 2 });
    await drain();
    expect(await durable.await(job)).toBe("slow done");
    expect(counts.get("slow")).toBe(1);
  });
});

describe("inline mode: snoozes", () => {
  it("an awaited job that snoozes runs again and the await returns its result", async () => {
    useTestingMode("inline");
    expect(await transformed.run(snoozeOnce, {})).toEqual({ attempt: 1, snoozes: 2 });
    const job = await transformed.async(snoozeOnce, {});
    expect(job.state).toBe("completed");
  });

  it("a job that snoozes forever ends the await with advice for inline mode, not manual mode", async () => {
    useTestingMode("inline");
    const job = await transformed.async(snoozeForever, {});
    expect(job.state).toBe("scheduled");
    const error = await durable.await(job).then(() => null, (e: Error) => e);
    expect(error).toMatchObject({ code: "DURABLE_TESTING_NOT_RUN" });
    expect(error!.message).toMatch(/inline mode/i);
    expect(error!.message).not.toMatch(/manual testing mode|drain\(/);
  });
});

describe("drain() order", () => {
  it("runs by priority, then due time, then id, as workers claim", async () => {
    useTestingMode("manual");
    await transformed.async(named, { name: "late" }, { delay: "1h" });
    await transformed.async(named, { name: "now" });
    await transformed.async(named, { name: "backdated" }, { at: new Date(Date.now() - 60_000) });
    await transformed.async(named, { name: "latest" }, { delay: "2h" });
    await transformed.async(named, { name: "low" }, { priority: 3, at: new Date(0) });
    await drain(undefined, { scheduled: true });
    expect(ran).toEqual(["backdated", "now", "late", "latest", "low"]);
  });
});
