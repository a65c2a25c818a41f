import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { durable } from "../../src/index.js";
import { JobFailedError } from "../../src/index.js";
import { allEnqueued, assertEnqueued, drain, stopTestingMode, useTestingMode, type TestingModeName } from "../../src/testing/index.js";
import * as tasks from "../support/steps-tasks.mjs";

// The stubs call the facade of dist/ (as workers do); the testing target is a
// globalThis slot both copies share, so the modes reach them.

describe("durable steps in the testing modes", () => {
  beforeEach(() => tasks.reset());
  afterEach(() => stopTestingMode());

  it("inline mode runs a parent's children, inline steps and sleeps in place", async () => {
    useTestingMode("inline");
    const parent = await durable.async(tasks.sequence as any, {} as any);
    expect(parent.state).toBe("completed");
    expect(await durable.await(parent)).toEqual({ a: 10, b: 20, stamp: { at: new Date(0), a: 10 } });
    expect(tasks.effects).toEqual(["child 1", "inline step", "child 2"]);
    const sleeper = await (durable.async as any)(tasks.sleeper, { ms: 10 });
    expect(await durable.await(sleeper)).toBe("woke");
  });

  it("manual mode records the parent; drain runs it with its children", async () => {
    useTestingMode("manual");
    await (durable.async as any)(tasks.parentOfThree, { failOnce: false });
    assertEnqueued({ task: "steps#parentOfThree" });
    await drain();
    expect(tasks.effects.filter((e) => e.startsWith("child")).sort()).toEqual(["child 1", "child 2", "child 3"]);
  });

  it.each(["inline", "manual"] as TestingModeName[])("%s mode: a retried parent replays its journal: children created once, reused", async (mode) => {
    useTestingMode(mode);
    const parent = await (durable.async as any)(tasks.parentOfThree, { failOnce: true });
    if (mode === "manual") await drain();
    expect(await durable.await(parent)).toEqual([10, 20, 30]);
    expect(tasks.effects.filter((e) => e.startsWith("child")).sort()).toEqual(["child 1", "child 2", "child 3"]);
    expect(tasks.effects.filter((e) => e.startsWith("parent"))).toHaveLength(2);
    expect(allEnqueued({ task: "steps#child" })).toHaveLength(3);
  });

  it.each(["inline", "manual"] as TestingModeName[])("%s mode: a replay that diverges from the journal fails with NondeterminismError", async (mode) => {
    useTestingMode(mode);
    const job = await (durable.async as any)(tasks.diverges, {}, { maxAttempts: 5 });
    if (mode === "manual") await drain();
    await expect(durable.await(job)).rejects.toBeInstanceOf(JobFailedError);
    expect(assertEnqueued({ task: "steps#diverges" })).toMatchObject({ state: "discarded", attempt: 2 });
    expect(assertEnqueued({ task: "steps#diverges" }).errors.at(-1)).toMatchObject({ code: "DURABLE_NONDETERMINISM" });
    expect(allEnqueued({ task: "steps#failingChild" })).toHaveLength(0);
  });

  it("durable.step outside a job runs its function, with a serialization round trip", async () => {
    expect(await durable.step(() => ({ at: new Date(5) }))).toEqual({ at: new Date(5) });
    await expect(durable.step(() => () => 1)).rejects.toThrow(/result/);
  });
});
