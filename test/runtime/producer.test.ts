import { describe, expect, it } from "vitest";
import { eventually, quietLogger } from "../support/db.js";
import { Producer, type JobSource, type QueueControl } from "../../src/runner/producer.js";
import { DueTimer } from "../../src/runner/producer-state.js";
import type { ClaimedJob } from "../../src/runner/claimed-job.js";

// The producer against a job source double: what it claims and when, per
// the modes documented in producer-state.ts. Its Postgres claim is tested
// through the runner (runner.test.ts, limits.test.ts).

const job = (id: number): ClaimedJob => ({
  id: String(id), task_id: "t", body_hash: "h", attempt: 1, max_attempts: 1, timeout_ms: 1000, backoff: null, captures: {}, meta: {}, queue: "q", progress: null,
});

/** Hands out `due` jobs on demand; each claim can be held open until released. */
class FakeSource implements JobSource {
  readonly demands: number[] = [];
  readonly released: string[] = [];
  due: number;
  private next = 1;
  hold: Promise<void> | null = null;
  fail = false;
  constructor(due: number) {
    this.due = due;
  }
  async claim(demand: number): Promise<{ jobs: ClaimedJob[]; waitMs: number | null }> {
    this.demands.push(demand);
    if (this.fail) throw new Error("connection refused");
    // The claim's snapshot is taken when it starts: jobs inserted while it is held open are not in it.
    const n = Math.min(demand, this.due);
    this.due -= n;
    if (this.hold) await this.hold;
    return { jobs: Array.from({ length: n }, () => job(this.next++)), waitMs: null };
  }
  async release(ids: string[]): Promise<void> {
    this.released.push(...ids);
  }
}

/** Jobs that run until finished by hand. */
function manualJobs() {
  const finish = new Map<string, () => void>();
  const run = (j: ClaimedJob) => new Promise<void>((resolve) => finish.set(j.id, resolve));
  return { run, finish: (id: string) => finish.get(id)!(), started: () => [...finish.keys()] };
}

const control = (patch: Partial<QueueControl> = {}): QueueControl => ({ paused: false, concurrency: null, globalConcurrency: null, rateLimit: null, ...patch });

describe("the producer", () => {
  it("claims its free slots in one claim, however many wake-ups arrive in a tick", async () => {
    const source = new FakeSource(100);
    const jobs = manualJobs();
    const p = new Producer("q", 3, () => ["t:h"], source, jobs.run, quietLogger);
    for (let i = 0; i < 10; i++) p.wake();
    await eventually("three jobs started", () => jobs.started().length === 3);
    expect(source.demands).toEqual([3]);
    jobs.finish("1");
    await eventually("a freed slot is claimed", () => jobs.started().length === 4);
    expect(source.demands).toEqual([3, 1]);
    await p.stop(Date.now());
  });

  it("after a claim that found fewer jobs than asked, a finished job claims nothing until something wakes it", async () => {
    const source = new FakeSource(1);
    const jobs = manualJobs();
    const p = new Producer("q", 3, () => ["t:h"], source, jobs.run, quietLogger);
    p.wake();
    await eventually("one job started", () => jobs.started().length === 1);
    jobs.finish("1");
    await eventually("the slot is free", () => p.running.size === 0);
    await new Promise((r) => setImmediate(r));
    expect(source.demands).toEqual([3]); // drained: no claim per finished job
    source.due = 2;
    p.wake();
    await eventually("woken, it claims again", () => jobs.started().length === 3);
    await p.stop(Date.now());
  });

  it("a wake-up during a claim in flight is not lost: one more claim follows", async () => {
    const source = new FakeSource(0);
    let open: () => void = () => undefined;
    source.hold = new Promise<void>((r) => (open = r));
    const jobs = manualJobs();
    const p = new Producer("q", 2, () => ["t:h"], source, jobs.run, quietLogger);
    p.wake();
    await eventually("the first claim is in flight", () => source.demands.length === 1);
    source.due = 2; // an insert lands while the claim is in flight, and notifies
    p.wake();
    source.hold = null;
    open();
    // The first claim comes back empty; the wake-up that arrived meanwhile makes a second one.
    await eventually("the second claim takes the new jobs", () => jobs.started().length === 2);
    expect(source.demands).toEqual([2, 2]);
    await p.stop(Date.now());
  });

  it("pausing hands prefetched jobs back and stops claiming; resuming claims again", async () => {
    const source = new FakeSource(100);
    const done: string[] = [];
    const p = new Producer("q", 2, () => ["t:h"], source, (j) => new Promise((r) => setTimeout(() => r(void done.push(j.id)), 2)), quietLogger);
    // Eight short jobs turn prefetch on.
    p.wake();
    await eventually("prefetch under way", () => p.buffered.length > 0);
    p.setControl(control({ paused: true }));
    await eventually("buffered jobs released", () => source.released.length > 0 && p.buffered.length === 0);
    const claims = source.demands.length;
    p.wake();
    await new Promise((r) => setImmediate(r));
    expect(source.demands.length).toBe(claims);
    p.setControl(control());
    await eventually("claims again", () => source.demands.length > claims);
    await p.stop(Date.now());
  });

  it("claims further ahead the shorter its jobs are, up to fifty times its slots; jobs longer than the window get no prefetch", async () => {
    const quick = new FakeSource(2_000);
    const p = new Producer("q", 2, () => ["t:h"], quick, async () => undefined, quietLogger);
    p.wake();
    await eventually("all quick jobs ran", () => quick.due === 0 && p.running.size === 0 && p.buffered.length === 0);
    // Instant jobs: the buffer holds the cap, 50 × 2 on top of the 2 slots.
    expect(Math.max(...quick.demands)).toBe(102);
    // Claims come in batches far larger than the two slots.
    expect(quick.demands.length).toBeLessThan(2_000 / 10);
    await p.stop(Date.now());

    const slow = new FakeSource(16);
    const q = new Producer("q", 2, () => ["t:h"], slow, () => new Promise((r) => setTimeout(r, 30)), quietLogger);
    q.wake();
    await eventually("all slow jobs ran", () => slow.due === 0 && q.running.size === 0, 5_000);
    expect(Math.max(...slow.demands)).toBe(2);
    await q.stop(Date.now());
  });

  it("stop() hands buffered jobs back at once, waits for running ones until its deadline, and returns those still running", async () => {
    const source = new FakeSource(3);
    const jobs = manualJobs();
    const p = new Producer("q", 2, () => ["t:h"], source, jobs.run, quietLogger);
    p.wake();
    await eventually("two jobs started", () => jobs.started().length === 2);
    setTimeout(() => jobs.finish("1"), 10);
    const held = await p.stop(Date.now() + 100);
    expect(held).toEqual({ started: ["2"], unstarted: [] });
    p.wake(); // stopped: nothing more is claimed
    await new Promise((r) => setImmediate(r));
    expect(source.demands).toEqual([2]);
  });

  it("a failing claim is logged once per outage and retried on the next wake-up", async () => {
    const source = new FakeSource(1);
    source.fail = true;
    const warnings: string[] = [];
    const logger = { ...quietLogger, warn: (m: string) => void warnings.push(m) };
    const p = new Producer("q", 1, () => ["t:h"], source, async () => undefined, logger);
    p.wake();
    await eventually("one failed claim", () => source.demands.length === 1);
    p.wake();
    await eventually("two failed claims", () => source.demands.length === 2);
    expect(warnings).toEqual(["durable: fetching jobs failed; will retry"]);
    source.fail = false;
    p.wake();
    await eventually("it runs once the source is back", () => source.due === 0);
    await p.stop(Date.now());
  });
});

describe("a due timer", () => {
  it("keeps the earlier moment, and a moment past what setTimeout holds wakes later, not at once", async () => {
    const timer = new DueTimer();
    let fired = 0;
    timer.arm(Date.now() + 30 * 86_400_000, () => fired++);
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(0); // an overflowing setTimeout would have fired after 1 ms
    timer.arm(Date.now() + 5, () => fired++);
    await eventually("the earlier moment fires", () => fired === 1);
    timer.arm(Date.now() + 60_000, () => fired++);
    timer.clear();
    expect(timer.armed).toBe(false);
  });

  it("claimed-ahead jobs: a cancelled one never starts; all go back when no slot frees for a while, and prefetch waits for a free slot", async () => {
    const source = new FakeSource(1000);
    const started: string[] = [];
    let release: (() => void) | null = null;
    // Eight short jobs turn prefetch on; the ninth holds the only slot until released.
    const p = new Producer("q", 1, () => ["t:h"], source, (j) => {
      started.push(j.id);
      if (started.length === 9) return new Promise<void>((r) => (release = r));
      return new Promise<void>((r) => setTimeout(r, 1));
    }, quietLogger);
    p.wake();
    await eventually("the long job holds the slot with jobs claimed behind it", () => release !== null && p.buffered.length > 0);
    const [cancelled] = p.buffered;
    expect(p.cancel(cancelled!, "cancelled")).toBe(true);
    expect(p.buffered).not.toContain(cancelled);
    await eventually("the buffer went back", () => p.buffered.length === 0 && source.released.length > 0);
    expect(source.released).not.toContain(cancelled);
    const claims = source.demands.length;
    p.wake();
    await new Promise((r) => setTimeout(r, 20));
    expect(source.demands.length).toBe(claims); // nothing claimed ahead while the slot stays busy
    release!();
    await eventually("claims again once the slot frees", () => source.demands.length > claims);
    expect(started).not.toContain(cancelled);
    await p.stop(Date.now());
  });

  it("a claimed-ahead job past its deadline is not started but handed back", async () => {
    const source = new FakeSource(0);
    const started: string[] = [];
    const p = new Producer("q", 1, () => ["t:h"], source, async (j) => void started.push(j.id), quietLogger);
    const late = { ...job(7), expires_at: new Date(Date.now() - 1) };
    const due = { ...job(8), expires_at: new Date(Date.now() + 60_000) };
    p.state.buffer.push(late, due);
    p.wake();
    await eventually("the due one ran", () => started.includes("8"));
    expect(started).not.toContain("7");
    expect(source.released).toContain("7");
    await p.stop(Date.now());
  });
});
