import { describe, expect, it } from "vitest";
import { normalizeAsyncOptions } from "../../src/config/options.js";
import { normalizeStartOptions } from "../../src/config/start.js";
import { parseDuration } from "../../src/config/duration.js";
import { validateSchemaName } from "../../src/db/schema.js";
import { InvalidOptionError, ConfigError } from "../../src/errors.js";

const defaults = { maxAttempts: 20, timeoutMs: 60_000, nodeTypes: ["worker", "api", "datasync"] };
const bad = (options: unknown) => {
  try {
    normalizeAsyncOptions(options, defaults);
  } catch (error) {
    return error as InvalidOptionError;
  }
  throw new Error("expected the options to be rejected");
};

describe("job options", () => {
  it("maps node types to queues and applies defaults", () => {
    expect(normalizeAsyncOptions(undefined, defaults)).toMatchObject({ queue: "ad_hoc_worker", maxAttempts: 20, timeoutMs: 60_000, priority: 0, runAt: null });
    expect(normalizeAsyncOptions({ nodeType: "datasync" }, defaults).queue).toBe("ad_hoc_datasync");
    expect(normalizeAsyncOptions({ queue: "phone_calls" }, defaults).queue).toBe("phone_calls");
  });

  it.each([
    [{ maxAttempts: -1 }, "maxAttempts", /integer from 1 to 1000/],
    [{ maxAttempts: 1.5 }, "maxAttempts", /integer/],
    [{ nodeType: "datasyn" }, "nodeType", /Did you mean "datasync"/],
    [{ nodeType: "billing" }, "nodeType", /nodeTypes/],
    [{ timeout: "ten minutes" }, "timeout", /not a duration/],
    [{ delay: "5 parsecs" }, "delay", /not a duration/],
    [{ priority: 12 }, "priority", /0 \(runs first\) to 9/],
    [{ at: "tomorrow" }, "at", /valid Date/],
    [{ delay: "1m", at: new Date() }, "delay", /cannot be combined/],
    [{ meta: { when: new Date() } }, "meta.when", /plain JSON/],
    [{ meta: [1] }, "meta", /plain object/],
    [{ tags: "import" }, "tags", /array of non-empty strings/],
    [{ maxAtempts: 3 }, "maxAtempts", /Did you mean "maxAttempts"/],
    [{ backoff: { type: "linear" } }, "backoff.type", /exponential/],
    [{ client: {} }, "client", /pg client/],
  ])("rejects %j naming %s", (options, option, message) => {
    const error = bad(options);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.code).toBe("DURABLE_INVALID_OPTION");
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  it("parses durations", () => {
    expect(parseDuration("x", "1h30m")).toBe(5_400_000);
    expect(parseDuration("x", "500ms")).toBe(500);
    expect(parseDuration("x", "24h")).toBe(86_400_000);
    expect(parseDuration("x", 250)).toBe(250);
    expect(() => parseDuration("x", "")).toThrow(/not a duration/);
    expect(() => parseDuration("x", -5)).toThrow(/non-negative/);
  });
});

describe("start options", () => {
  it("defaults to the worker node type and its queue", () => {
    const c = normalizeStartOptions({});
    expect(c.nodeTypes).toEqual(["worker"]);
    expect(c.queues).toEqual({ ad_hoc_worker: 10 });
    expect(c.schema).toBe("durable");
  });

  it("runs several node types and extra declared ones", () => {
    const c = normalizeStartOptions({ nodeType: ["worker", "reports"], nodeTypes: ["reports"], queues: { ad_hoc_worker: 3 } });
    expect(c.queues).toEqual({ ad_hoc_worker: 3, ad_hoc_reports: 10 });
  });

  it("an api node that does not run has no queues", () => {
    expect(normalizeStartOptions({ nodeType: "api", run: false }).queues).toEqual({});
  });

  it.each([
    [{ nodeType: "wroker" }, /Did you mean "worker"/],
    [{ queues: { ad_hoc_worker: -1 } }, /concurrency from 0 to 10000/],
    [{ pollInterval: "often" }, /not a duration/],
    [{ bodyHashPolicy: "maybe" }, /run-if-captures-match/],
    [{ leaseTtl: "1s", heartbeatInterval: "1s" }, /twice heartbeatInterval/],
    [{ databse: "x" }, /Did you mean "database"/],
    [{ schema: "Robert'); drop table students;--" }, /Invalid schema name/],
  ])("rejects %j", (options, message) => {
    expect(() => normalizeStartOptions(options as any)).toThrow(message);
  });

  it("validates schema names strictly and suggests a fix", () => {
    expect(validateSchemaName("durable_2")).toBe("durable_2");
    expect(() => validateSchemaName("My-Schema")).toThrow(ConfigError);
    expect(() => validateSchemaName("My-Schema")).toThrow(/Try "my_schema"/);
    expect(() => validateSchemaName('x"; drop schema public; --')).toThrow(/Invalid schema name/);
  });
});

describe("DURABLE_NODE_TYPES", () => {
  it("declares extra node types, as it does for the transformer", () => {
    process.env.DURABLE_NODE_TYPES = "reports, billing";
    try {
      expect(normalizeStartOptions({ nodeType: "billing" }).queues).toEqual({ ad_hoc_billing: 10 });
    } finally {
      delete process.env.DURABLE_NODE_TYPES;
    }
  });
});

describe("durations in messages", () => {
  it("are written as a user writes them, and read back as the same duration", async () => {
    const { formatDuration, parseDuration } = await import("../../src/config/duration.js");
    const cases: Array<[number, string]> = [[5_400_000, "1h30m"], [90_000, "1m30s"], [1_500, "1s500ms"], [250, "250ms"], [0, "0ms"], [86_400_000, "1d"], [15 * 60_000, "15m"]];
    for (const [ms, text] of cases) {
      expect(formatDuration(ms)).toBe(text);
      expect(parseDuration("x", text)).toBe(ms);
    }
  });
});

describe("limits are explicit", () => {
  it.each([
    ["pollInterval", "25d"],
    ["heartbeatInterval", "30d"],
    ["shutdownGrace", "25d"],
    ["defaultTimeout", 2_147_483_648],
  ])("%s above what a timer holds is refused, naming the limit", (option, value) => {
    expect(() => normalizeStartOptions({ [option]: value, ...(option === "heartbeatInterval" ? { leaseTtl: "100d" } : {}) } as any)).toThrow(
      new RegExp(`\`${option}\`: must be at most 2147483647 ms \\(about 24\\.8 days\\), the longest a timer can wait`),
    );
  });

  it("a job timeout above what a timer holds is refused; 24 days is fine", () => {
    expect(bad({ timeout: "25d" }).message).toMatch(/at most 2147483647 ms .* the longest a timer can wait; got 2160000000 ms/);
    expect(normalizeAsyncOptions({ timeout: "24d" }, defaults).timeoutMs).toBe(24 * 86_400_000);
  });

  it("due times stored in the database are clamped: a delay to ten years, a date before 1970 to 1970", () => {
    const far = normalizeAsyncOptions({ delay: "100000w" }, defaults).runAt!;
    expect(far.getTime()).toBeLessThanOrEqual(Date.now() + 315_360_000_000);
    expect(far.getTime()).toBeGreaterThan(Date.now() + 300_000_000_000);
    expect(normalizeAsyncOptions({ at: new Date(-8.64e15) }, defaults).runAt!.getTime()).toBe(0);
  });

  it("leaseTtl and unknownTaskGrace, due times in the database, stop at ten years", () => {
    expect(() => normalizeStartOptions({ leaseTtl: "1000w" })).toThrow(/`leaseTtl`: must be at most 315360000000 ms/);
    expect(() => normalizeStartOptions({ unknownTaskGrace: "1000w" })).toThrow(/`unknownTaskGrace`: must be at most/);
    expect(normalizeStartOptions({ unknownTaskGrace: "52w" }).unknownTaskGraceMs).toBe(52 * 604_800_000);
  });

  it("maxCaptureBytes and maxClaimBytes default to 4 MiB and 32 MiB", () => {
    expect(normalizeStartOptions({})).toMatchObject({ maxCaptureBytes: 4 * 1024 * 1024, maxClaimBytes: 32 * 1024 * 1024 });
    expect(() => normalizeStartOptions({ maxCaptureBytes: 0 })).toThrow(/maxCaptureBytes/);
  });
});
