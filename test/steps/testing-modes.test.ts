import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { durable } from "../../src/index.js";
import { assertEnqueued, drain, stopTestingMode, useTestingMode } from "../../src/testing/index.js";
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

  it("durable.step outside a job runs its function, with a serialization round trip", async () => {
    expect(await durable.step(() => ({ at: new Date(5) }))).toEqual({ at: new Date(5) });
    await expect(durable.step(() => () => 1)).rejects.toThrow(/result/);
  });
});
