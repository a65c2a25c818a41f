import { describe, expect, it } from "vitest";
import { DurableError, InvalidOptionError } from "../../src/errors.js";
import { testDatabase } from "../support/db.js";

// Garbage into every filter and control argument of durable.jobs and
// durable.queues: each call either works or rejects with a typed error that
// names the argument. Never a raw Postgres error (out of range, NUL, bad
// JSON escape) and never a hang.

const NUL = "a\u0000b";
const SURROGATE = "Great job \ud83d";

const hostileStrings = [NUL, SURROGATE, "\udc00x", ""];
const hostileIds: unknown[] = ["99999999999999999999", "9223372036854775808", "-1", "1.5", "0x10", 1e300, -5, 0, NaN, Infinity, 2 ** 64, 10n ** 30n, "", null, {}, [[1]], NUL];
const hostileDates: unknown[] = [new Date(NaN), new Date(-8.64e15), new Date(Date.UTC(-5000, 0, 1)), "2026-01-01", 0, {}];
const hostileMeta: unknown[] = [
  { k: NUL }, { [NUL]: 1 }, { k: SURROGATE }, { k: { deep: [1, "\udfff"] } }, { k: Infinity }, { k: NaN }, { k: 10n },
  { k: () => 1 }, { k: Symbol("s") }, { k: new Map() }, { k: undefined }, "orgId=42", [1], 42,
];

function cyclic(): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  o.self = o;
  return o;
}

/** Every hostile filter: one bad field at a time. */
function hostileFilters(): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const id of hostileIds) out.push([`id ${String(id)}`, { id }], [`ids [${String(id)}]`, { ids: [id] }]);
  for (const s of hostileStrings) {
    out.push([`queue ${JSON.stringify(s)}`, { queue: s }], [`task ${JSON.stringify(s)}`, { task: [s, "x"] }], [`tags ${JSON.stringify(s)}`, { tags: [s] }], [`state ${JSON.stringify(s)}`, { state: s }]);
  }
  for (const d of hostileDates) out.push([`since ${String(d)}`, { since: d }], [`inserted.to ${String(d)}`, { inserted: { to: d } }], [`completed.from ${String(d)}`, { completed: { from: d } }]);
  for (const m of hostileMeta) out.push([`meta ${String(m)}`, { meta: m }]);
  out.push(["meta cyclic", { meta: cyclic() }], ["tags not array", { tags: "a" }], ["tags numbers", { tags: [1] }], ["unknown key", { stat: "failed" }]);
  out.push(["filter string", "state=failed"], ["filter array", [1]], ["filter number", 5]);
  return out;
}

async function outcome(call: () => unknown): Promise<unknown> {
  try {
    const value = await call();
    // A stream reports its error on the stream.
    if (value && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
      for await (const _ of value as AsyncIterable<unknown>) break;
    }
    return null;
  } catch (error) {
    return error;
  }
}

function expectTyped(label: string, error: unknown): void {
  if (error === null) return; // accepted (e.g. an id that simply matches nothing)
  expect(error, `${label}: ${(error as Error)?.message}`).toBeInstanceOf(DurableError);
  expect((error as DurableError).code, label).toBe("DURABLE_INVALID_OPTION");
  expect((error as InvalidOptionError).option, label).toBeTruthy();
}

describe("public API input validation", () => {
  it("durable.jobs.* give a typed error naming the argument for every hostile filter", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const jobs = d.jobs;
    for (const [label, filter] of hostileFilters()) {
      const f = filter as any;
      expectTyped(`list ${label}`, await outcome(() => jobs.list(f)));
      expectTyped(`count ${label}`, await outcome(() => jobs.count(f)));
      expectTyped(`countByState ${label}`, await outcome(() => jobs.countByState(f)));
      expectTyped(`stream ${label}`, await outcome(() => jobs.stream(f)));
      expectTyped(`report ${label}`, await outcome(() => jobs.report({ by: "orgId", filter: f })));
      expectTyped(`cancel ${label}`, await outcome(() => jobs.cancel(f)));
      expectTyped(`retry ${label}`, await outcome(() => jobs.retry(f)));
      expectTyped(`delete ${label}`, await outcome(() => jobs.delete(f)));
    }
    // The argument is named, down to the key.
    await expect(jobs.list({ meta: { org: { name: NUL } } })).rejects.toThrow(/`filter\.meta\.org\.name`: holds a NUL character/);
    await expect(jobs.count({ ids: ["1", "99999999999999999999"] })).rejects.toThrow(/`filter\.id`.*at most 9223372036854775807/);
    await expect(jobs.list({ since: new Date(Date.UTC(-5000, 0, 1)) })).rejects.toThrow(/`filter\.since`: is before 4713 BC/);
    await expect(jobs.list({ tags: ["ok", SURROGATE] })).rejects.toThrow(/`filter\.tags\[1\]`: holds a lone surrogate/);
    for (const by of [NUL, "", 5, SURROGATE]) expectTyped(`report by ${String(by)}`, await outcome(() => jobs.report({ by: by as any })));
  });

  it("paging, prune and await arguments are checked the same way", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    for (const page of [{ limit: -1 }, { limit: 1e9 }, { limit: 2.5 }, { limit: "10" }, { after: "99999999999999999999" }, { after: NUL }, { order: "sideways" }, "page"]) {
      expectTyped(`list page ${JSON.stringify(page)}`, await outcome(() => d.jobs.list({}, page as any)));
    }
    for (const options of [{ batchSize: 0 }, { batchSize: 1e12 }, { maxBatches: -1 }, { batchSize: "5" }]) {
      expectTyped(`prune ${JSON.stringify(options)}`, await outcome(() => d.jobs.prune(options as any)));
    }
    for (const id of hostileIds) {
      if (id === 0 || id === "0") continue; // a well-formed id that does not exist: JobNotFoundError, tested elsewhere
      expectTyped(`await ${String(id)}`, await outcome(() => d.await(id as any, { timeout: "1s" })));
    }
  });

  it("durable.queues.* refuse hostile names, numbers and settings by name", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const q = d.queues;
    for (const name of [...hostileStrings, "a".repeat(101), "bad queue", 5, null, {}]) {
      expectTyped(`pause ${String(name)}`, await outcome(() => q.pause(name as any)));
      expectTyped(`resume ${String(name)}`, await outcome(() => q.resume(name as any)));
      expectTyped(`scale ${String(name)}`, await outcome(() => q.scale(name as any, 1)));
      expectTyped(`configure ${String(name)}`, await outcome(() => q.configure(name as any, {})));
    }
    for (const n of [-1, 10_001, 1.5, NaN, Infinity, "3", 2 ** 40]) expectTyped(`scale ${n}`, await outcome(() => q.scale("q", n as any)));
    for (const forValue of ["soon", -5, "99999999999999999999d", NUL, Infinity, {}]) expectTyped(`pause for ${String(forValue)}`, await outcome(() => q.pause("q", { for: forValue as any })));
    const settings: unknown[] = [
      { rateLimit: { allowed: 0, period: "1s" } }, { rateLimit: { allowed: 5, period: "99999d" } }, { rateLimit: { allowed: 5 } }, { rateLimit: "5/s" },
      { globalConcurrency: 0 }, { globalConcurrency: 1e12 }, { retention: { completed: "forever" } }, { retention: { completed: 1e300 } }, { retention: { sent: "1d" } },
      { retention: { completed: "9999999999999d" } }, { concurrency: 5 }, "fast", null,
    ];
    for (const s of settings) expectTyped(`configure ${JSON.stringify(s)}`, await outcome(() => q.configure("q", s as any)));
    // Nothing above reached the table.
    expect((await db.pool.query(`select count(*)::int as n from ${db.q}.queues`)).rows[0].n).toBe(0);
  });
});
