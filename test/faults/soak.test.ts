import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dedicatedServer, FaultRun, report, until, type FaultServer } from "./harness.js";

// A steady mixed load for DURABLE_SOAK_MS (default 10 minutes) on two worker
// processes: plain jobs, jobs that fail once and retry, larger results,
// delayed jobs and await round trips. Worker RSS and heap are sampled after
// a forced GC; the end must sit near the start (flat), and every job completes.

const SOAK_MS = Number(process.env.DURABLE_SOAK_MS ?? 10 * 60_000);
const dist = inject("faultDist");
process.env.DURABLE_FAULT_DIST = dist;

let server: FaultServer | undefined;
beforeAll(async () => {
  if (!process.env.DATABASE_URL) server = await dedicatedServer();
});
afterAll(async () => {
  await server?.stop();
});

const MB = 1024 * 1024;

describe("soak", () => {
  it(`steady mixed load for ${Math.round(SOAK_MS / 1000)} s keeps worker memory flat`, async () => {
    const url = process.env.DATABASE_URL ?? server!.url;
    const run = new FaultRun({ name: "soak", url, dist, workers: 2, notifications: true });
    const tasks = await import(new URL("../support/fault-tasks.mjs", import.meta.url).href);
    let passed = false;
    try {
      await run.setup();
      const d = run.enqueuer;
      const samples: Array<{ at: number; rss: number[]; heap: number[]; external: number[] }> = [];
      const sample = async () => {
        const answers = await Promise.all(run.workers.map((w) => w.request("memory", { gc: true })));
        samples.push({ at: Date.now(), rss: answers.map((a) => a.memory.rss), heap: answers.map((a) => a.memory.heapUsed), external: answers.map((a) => a.memory.external + a.memory.arrayBuffers) });
      };
      const started = Date.now();
      // RSS climbs for the first minute (JIT, pools, allocator arenas) and then holds: the start sample comes after that.
      const warmup = Math.min(60_000, SOAK_MS * 0.25);
      let n = 0;
      let awaited = 0;
      let awaitErrors = 0;
      let tick = 0;
      let nextSample = started + warmup;
      const awaits: Promise<unknown>[] = [];
      while (Date.now() - started < SOAK_MS) {
        const batch: Array<[unknown, Record<string, unknown>, Record<string, unknown>?]> = [];
        for (let i = 0; i < 10; i++, n++) batch.push([tasks.work, { n, ms: 1 + (n % 10) }, { maxAttempts: 25, backoff: { type: "fixed", delay: 200 } }]);
        batch.push([tasks.flaky, { n: n++ }, { backoff: { type: "fixed", delay: 100 } }]);
        batch.push([tasks.payload, { n: n++, size: 2_048 + (tick % 7) * 1_024 }]);
        if (tick % 10 === 0) batch.push([tasks.payload, { n: n++, size: 16 }, { delay: 500 }]);
        await d.asyncMany(batch);
        if (tick % 5 === 0) {
          const handle = await d.async(tasks.payload, { n: n++, size: 64 });
          awaits.push(d.await(handle, { timeout: "60s" }).then(() => awaited++, () => awaitErrors++));
          if (awaits.length > 200) await Promise.all(awaits.splice(0));
        }
        tick++;
        if (Date.now() >= nextSample) {
          await sample();
          nextSample = Date.now() + Math.max(5_000, SOAK_MS / 20);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      await Promise.all(awaits);
      await until("the soak backlog to drain", async () => {
        const { rows } = await run.pool.query(`select count(*) filter (where state not in ('completed'))::int as open from ${run.q}.jobs`);
        return rows[0].open === 0;
      }, 120_000, 500);
      await sample();
      const first = samples[0]!;
      const last = samples.at(-1)!;
      const { rows } = await run.pool.query(`select count(*)::int as jobs, count(*) filter (where state = 'completed')::int as completed from ${run.q}.jobs`);
      const figures = await run.verify(n === 0 ? 0 : (await run.pool.query(`select count(*)::int as c from ${run.q}.jobs where task_id = 'faults#work'`)).rows[0].c);
      report(`soak: ${Math.round(SOAK_MS / 1000)} s, 2 workers`, {
        jobs: rows[0].jobs,
        completed: rows[0].completed,
        awaited,
        awaitErrors,
        lost: figures.lost,
        duplicatesAfterSuccess: figures.duplicatesAfterSuccess,
        samples: samples.length,
        rssStartMB: first.rss.map((b) => +(b / MB).toFixed(1)),
        rssEndMB: last.rss.map((b) => +(b / MB).toFixed(1)),
        heapStartMB: first.heap.map((b) => +(b / MB).toFixed(1)),
        heapEndMB: last.heap.map((b) => +(b / MB).toFixed(1)),
        externalStartMB: first.external.map((b) => +(b / MB).toFixed(1)),
        externalEndMB: last.external.map((b) => +(b / MB).toFixed(1)),
        rssSeriesMB: samples.map((s) => s.rss.map((b) => Math.round(b / MB)).join("/")),
        unexpectedExits: run.unexpectedExits,
      });
      expect(run.unexpectedExits).toEqual([]);
      expect(rows[0].completed).toBe(rows[0].jobs);
      expect(awaitErrors).toBe(0);
      expect(figures.duplicatesAfterSuccess).toBe(0);
      for (let i = 0; i < run.workers.length; i++) {
        // Flat: the heap after GC stays within a few MB, RSS within a quarter (the allocator keeps some slack).
        expect(last.heap[i]! - first.heap[i]!, `worker ${i + 1} heap growth`).toBeLessThan(16 * MB);
        expect(last.rss[i]!, `worker ${i + 1} RSS`).toBeLessThan(first.rss[i]! * 1.25 + 16 * MB);
      }
      passed = true;
    } finally {
      await run.close();
      if (passed) await run.drop(url);
    }
  });
});
