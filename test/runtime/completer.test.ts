import { describe, expect, it } from "vitest";
import { eventually, quietLogger } from "../support/db.js";
import { Completer, type OutcomeEntry, type OutcomeStore } from "../../src/runner/completer.js";
import type { ClaimedJob } from "../../src/runner/claimed-job.js";

// The completer against a store double: batching, the retry rule for a
// database that is away, per-row isolation for a row it refuses, and the
// bounded drain. The same rules on Postgres: completer-pg.test.ts.

const job = (id: number, attempt = 1, maxAttempts = 3): ClaimedJob => ({
  id: String(id), task_id: "t", body_hash: "h", attempt, max_attempts: maxAttempts, timeout_ms: 1000, backoff: null,
  captures: {}, meta: {}, queue: "q", progress: null,
});
const completed = (id: number): OutcomeEntry => ({ job: job(id), outcome: { kind: "completed", result: "{}", payload: { json: null } }, startedAt: 0 });

/** A store that records what it wrote, and refuses what `refuse` says. */
class FakeStore implements OutcomeStore {
  readonly written = new Map<string, string>();
  readonly batches: number[] = [];
  up = true;
  constructor(private readonly refuse: (entries: readonly OutcomeEntry[]) => unknown = () => null) {}
  async ping(): Promise<void> {
    if (!this.up) throw connectionLost();
  }
  async write(entries: readonly OutcomeEntry[]): Promise<void> {
    this.batches.push(entries.length);
    const error = this.refuse(entries);
    if (error) throw error;
    for (const e of entries) this.written.set(e.job.id, e.outcome.kind);
  }
}

const rejected = (message: string) => Object.assign(new Error(message), { code: "P0001" });
const connectionLost = () => Object.assign(new Error("Connection terminated unexpectedly"), { code: undefined });

function completer(store: OutcomeStore, settled: Array<[string, boolean]> = []) {
  return new Completer(store, { logger: quietLogger, firstRetryMs: 1, maxRetryMs: 5, onSettled: (e, recorded) => settled.push([e.job.id, recorded]) });
}

describe("the completer", () => {
  it("writes outcomes that arrive together in one batch, and settles each after its write", async () => {
    const store = new FakeStore();
    const settled: Array<[string, boolean]> = [];
    const c = completer(store, settled);
    for (let i = 1; i <= 5; i++) c.record(completed(i));
    expect(c.unwritten()).toEqual(["1", "2", "3", "4", "5"]);
    await c.drain(Date.now() + 5_000);
    expect(store.batches).toEqual([5]);
    expect(settled).toEqual([1, 2, 3, 4, 5].map((i) => [String(i), true]));
    expect(c.unwritten()).toEqual([]);
  });

  it("a row the database refuses is split out; the others are written; it is recorded as a failed attempt with a coded error", async () => {
    const store = new FakeStore((entries) => (entries.some((e) => e.job.id === "3" && e.outcome.kind === "completed") ? rejected("bad row") : null));
    const settled: Array<[string, boolean]> = [];
    const c = completer(store, settled);
    const entries = [1, 2, 3, 4, 5].map(completed);
    for (const e of entries) c.record(e);
    await c.drain(Date.now() + 5_000);
    expect([...store.written]).toEqual(expect.arrayContaining([["1", "completed"], ["2", "completed"], ["4", "completed"], ["5", "completed"], ["3", "retryable"]]));
    const failed = entries[2]!.outcome;
    expect(failed.kind).toBe("retryable");
    expect(failed.kind === "retryable" && failed.error.code).toBe("DURABLE_OUTCOME_REJECTED");
    expect(failed.kind === "retryable" && failed.error.message).toMatch(/refused to record job 3's outcome \(completed\): bad row \(SQLSTATE P0001\)/);
    expect(settled.every(([, recorded]) => recorded)).toBe(true);
  });

  it("a row refused whatever it holds is given up after the failure and a bare discard: never retried forever", async () => {
    const store = new FakeStore((entries) => (entries.some((e) => e.job.id === "2") ? rejected("no") : null));
    const settled: Array<[string, boolean]> = [];
    const c = completer(store, settled);
    c.record(completed(1));
    c.record(completed(2));
    await c.drain(Date.now() + 5_000);
    expect(settled).toEqual(expect.arrayContaining([["1", true], ["2", false]]));
    // The whole batch, then each half, then the failure, then the bare discard: four tries of row 2, no more.
    expect(store.batches.length).toBeLessThanOrEqual(5);
  });

  it("while the database is away it retries (in smaller batches) and loses nothing once it is back", async () => {
    let down = true;
    const store = new FakeStore(() => (down ? connectionLost() : null));
    store.up = false;
    const c = completer(store);
    for (let i = 1; i <= 8; i++) c.record(completed(i));
    await eventually("a few failed rounds", () => store.batches.length >= 4);
    expect(store.written.size).toBe(0);
    expect(Math.min(...store.batches)).toBeLessThan(8);
    down = false;
    store.up = true;
    await c.drain(Date.now() + 5_000);
    expect(store.written.size).toBe(8);
  });

  it("a row that keeps failing 'transiently' while the database answers is treated as refused", async () => {
    const store = new FakeStore((entries) => (entries.some((e) => e.job.id === "1" && e.outcome.kind === "completed") ? connectionLost() : null));
    const settled: Array<[string, boolean]> = [];
    const c = completer(store, settled);
    for (let i = 1; i <= 4; i++) c.record(completed(i));
    await eventually("every outcome settled", () => settled.length === 4);
    expect(store.written.get("1")).toBe("retryable");
    expect(["2", "3", "4"].map((id) => store.written.get(id))).toEqual(["completed", "completed", "completed"]);
    await c.drain(Date.now() + 1_000);
  });

  it("drain() ends at its deadline even when every write fails, and later outcomes are dropped", async () => {
    const store = new FakeStore(() => connectionLost());
    const settled: Array<[string, boolean]> = [];
    const c = completer(store, settled);
    c.record(completed(1));
    const started = Date.now();
    await c.drain(started + 200);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(settled).toEqual([["1", false]]);
    c.record(completed(2));
    expect(c.unwritten()).toEqual([]);
  });

  it("drain() ends at its deadline when a write never answers", async () => {
    const c = completer({ write: () => new Promise(() => undefined) });
    c.record(completed(1));
    const started = Date.now();
    await c.drain(started + 200);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
