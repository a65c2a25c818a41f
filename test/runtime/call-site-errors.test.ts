import { afterEach, describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import * as semantics from "../support/semantics-tasks.mjs";
import { durable } from "../../src/index.js";
import { stopTestingMode, useTestingMode } from "../../src/testing/index.js";
import { CaptureTooLargeError, NotSerializableError } from "../../src/errors.js";

// A programming error at a call site (a capture that cannot be serialized,
// captures over maxCaptureBytes) throws synchronously, at the call, from
// every entry point and in the testing modes alike: an unawaited rejected
// promise is too easy to miss. Only database failures reject.

const notSerializable = { value: { onDone: () => 1 } };
const tooBig = { value: "x".repeat(2_000) };

/** What calling `call` did: threw synchronously (and what), or returned a promise. */
function outcomeOf(call: () => unknown): { threw: unknown } | { returned: unknown } {
  try {
    const value = call();
    if (value instanceof Promise) value.catch(() => undefined);
    return { returned: value };
  } catch (threw) {
    return { threw };
  }
}

afterEach(() => stopTestingMode());

describe("programming errors throw at the call", () => {
  it("from async, run, asyncMany and cron, and from async inside bulk (which then rejects)", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false, maxCaptureBytes: 1_000 });
    const calls: Array<[string, () => unknown]> = [
      ["async", () => d.async(tasks.echo, notSerializable)],
      ["run", () => d.run(tasks.echo, notSerializable)],
      ["asyncMany", () => d.asyncMany([[tasks.echo, { value: 1 }], [tasks.echo, notSerializable]])],
      ["cron", () => d.cron("* * * * *", semantics.cronTick, notSerializable, { name: "bad-cron" })],
    ];
    for (const [name, call] of calls) {
      const result = outcomeOf(call);
      expect("threw" in result ? result.threw : `${name} returned`).toBeInstanceOf(NotSerializableError);
    }
    for (const call of [() => d.async(tasks.echo, tooBig), () => d.run(tasks.echo, tooBig), () => d.asyncMany([[tasks.echo, tooBig]])]) {
      const result = outcomeOf(call);
      expect("threw" in result ? result.threw : "returned").toBeInstanceOf(CaptureTooLargeError);
    }
    let inside: unknown;
    const bulk = d.bulk(() => {
      try {
        void d.async(tasks.echo, notSerializable);
      } catch (error) {
        inside = error;
        throw error;
      }
    });
    await expect(bulk).rejects.toBeInstanceOf(NotSerializableError);
    expect(inside).toBeInstanceOf(NotSerializableError);
    expect((await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`)).rows[0].n).toBe(0);
  });

  it("names the call site, the size and the cap when captures are too large", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false, maxCaptureBytes: 1_000 });
    expect(() => d.async(tasks.echo, tooBig)).toThrow(/^The captures of durable\.async\(\) at test\/support\/tasks\.mjs:1:1 are 2\d{3} bytes serialized, over the cap of 1000 bytes \(`maxCaptureBytes`\)/);
    // At the cap is fine.
    const job = await d.async(tasks.echo, { value: "x".repeat(900) });
    expect(job.id).toBeDefined();
  });

  it.each(["inline", "manual"] as const)("in the %s testing mode too", (mode) => {
    useTestingMode(mode, { maxCaptureBytes: 1_000 });
    const facade = durable as any;
    for (const captures of [notSerializable, tooBig]) {
      for (const call of [() => facade.async(tasks.echo, captures), () => facade.run(tasks.echo, captures)]) {
        const result = outcomeOf(call);
        expect("threw" in result).toBe(true);
      }
    }
    expect(outcomeOf(() => facade.async(tasks.echo, tooBig))).toMatchObject({ threw: expect.any(CaptureTooLargeError) });
  });
});
