// A call site Vitest runs without the durable-async/vite plugin (this suite's
// own config has none): the error names this file and line, and says what to
// add, in testing mode as with a real instance.
import { afterEach, describe, expect, it } from "vitest";
import { durable } from "../../src/durable.js";
import { UntransformedCallError } from "../../src/errors.js";
import { stopTestingMode, useTestingMode } from "../../src/testing/index.js";

afterEach(() => stopTestingMode());

describe("UntransformedCallError under Vitest", () => {
  it("names the test file, line and column of an untransformed call in testing mode", () => {
    useTestingMode("inline");
    let error: unknown;
    const line = new Error().stack!.split("\n")[1]!.match(/:(\d+):\d+\)?$/)![1];
    try { durable.async(() => "plain"); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(UntransformedCallError);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`untransformed\\.test\\.ts:${Number(line) + 1}:\\d+`));
    expect(message).not.toContain("unknown location");
    expect(message).toContain("durableVite()");
  });

  it("names it for durable.run and durable.cron too", () => {
    useTestingMode("manual");
    // A programming error: thrown at the call, like durable.async's (not a rejection).
    expect(() => durable.run(() => 1)).toThrow(/untransformed\.test\.ts:\d+:\d+/);
    expect(() => durable.cron("* * * * *", () => 1)).toThrow(/untransformed\.test\.ts:\d+:\d+/);
  });
});
