// The five workloads, identical for every system. Each takes a system module
// (systems/*.mjs), the shared env and the size settings, and returns figures.
import { forkWorker } from "./children.mjs";
import { latencySummary, median, nowMs, sleep } from "./clock.mjs";

async function insertAll(c, total, batch, options) {
  for (let from = 0; from < total; from += batch) await c.insertBulk(from, Math.min(batch, total - from), options);
}

async function waitDrained(c, limitMs = 15_000) {
  const deadline = Date.now() + limitMs;
  let left = await c.remaining();
  while (left > 0 && Date.now() < deadline) {
    await sleep(50);
    left = await c.remaining();
  }
  return left;
}

/** (1) Bulk insert: `total` jobs in sequential bulk calls of `batch`. */
export async function bulkInsert(system, env, size, log) {
  const rates = [];
  for (let rep = 0; rep < size.reps; rep++) {
    await system.reset(env);
    const c = await system.client(env);
    try {
      await c.enqueue(-1); // warm: connections, prepared statements, catalog rows
      const t0 = nowMs();
      await insertAll(c, size.bulkJobs, size.bulkBatch);
      rates.push((size.bulkJobs / (nowMs() - t0)) * 1000);
    } finally {
      await c.close();
    }
  }
  log(`  bulk insert: ${rates.map((r) => r.toFixed(0)).join(", ")} jobs/s`);
  return { rate: median(rates), runs: rates };
}

/** (2) Unique vs plain bulk insert rate, for systems with uniqueWorks(). */
export async function uniqueInsert(system, env, size, log) {
  if (!system.uniqueWorks) return null;
  const plain = [];
  const unique = [];
  for (let rep = 0; rep < size.reps; rep++) {
    await system.reset(env);
    const c = await system.client(env);
    try {
      if (!(await system.uniqueWorks(c))) {
        log("  unique: the `unique` option does not dedupe in this build: n/a");
        return { works: false };
      }
      let t0 = nowMs();
      await insertAll(c, size.uniqueJobs, size.bulkBatch);
      plain.push((size.uniqueJobs / (nowMs() - t0)) * 1000);
      const opts = () => ({ unique: { period: "24h" } });
      t0 = nowMs();
      // Offset the seqs so every unique key is new: this is the no-conflict insert rate.
      for (let from = 0; from < size.uniqueJobs; from += size.bulkBatch) await c.insertBulk(1e9 + from, Math.min(size.bulkBatch, size.uniqueJobs - from), opts);
      unique.push((size.uniqueJobs / (nowMs() - t0)) * 1000);
    } finally {
      await c.close();
    }
  }
  log(`  unique insert: plain ${plain.map((r) => r.toFixed(0)).join(", ")}; unique ${unique.map((r) => r.toFixed(0)).join(", ")} jobs/s`);
  return { works: true, plain: median(plain), unique: median(unique) };
}

/** (3) Drain N pre-inserted no-op jobs with `procs` worker processes × `concurrency`. */
export async function drain(system, env, size, procs, concurrency, log, { forkOptions, beforeStart } = {}) {
  const rates = [];
  let window = null;
  for (let rep = 0; rep < size.reps; rep++) {
    await system.reset(env);
    const c = await system.client(env);
    const workers = [];
    try {
      await insertAll(c, size.drainJobs, size.bulkBatch);
      for (let i = 0; i < procs; i++) workers.push(forkWorker(system.file, env, forkOptions));
      await Promise.all(workers.map((w) => w.waitFor("ready")));
      await beforeStart?.();
      const state = workers.map(() => ({ count: 0, firstAt: NaN, lastAt: NaN }));
      const done = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${system.name}: drain of ${size.drainJobs} did not finish in ${size.drainLimitMs} ms (${state.map((s) => s.count).join("+")} ran)`)), size.drainLimitMs);
        workers.forEach((w, i) =>
          w.on((m) => {
            if (m.type !== "progress") return;
            state[i] = m;
            if (state.reduce((a, s) => a + s.count, 0) >= size.drainJobs) clearTimeout(timer), resolve();
          }),
        );
      });
      for (const w of workers) w.send({ type: "start", concurrency, report: "drain", mode: "drain" });
      await done;
      const first = Math.min(...state.filter((s) => s.count > 0).map((s) => s.firstAt));
      const last = Math.max(...state.filter((s) => s.count > 0).map((s) => s.lastAt));
      const ran = state.reduce((a, s) => a + s.count, 0);
      rates.push((ran / (last - first)) * 1000);
      window = [first, last];
      await Promise.all(workers.map((w) => w.stop()));
      const left = await waitDrained(c);
      if (left > 0) log(`  WARNING: ${system.name} still has ${left} unfinished jobs after the drain`);
      if (ran > size.drainJobs) log(`  WARNING: ${system.name} ran ${ran} closures for ${size.drainJobs} jobs`);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await c.close();
    }
  }
  log(`  drain ${procs}×${concurrency}: ${rates.map((r) => r.toFixed(0)).join(", ")} jobs/s`);
  return { rate: median(rates), runs: rates, window };
}

/**
 * A polling worker (pg-boss) would otherwise lock into phase with a
 * sequential loop (every job would wait a whole interval); start each sample
 * at a random point of its interval, as independent arrivals would.
 */
const randomPhase = (system) => (system.pollsForWork ? sleep(Math.random() * system.pollsForWork) : undefined);

async function withIdleWorker(system, env, report, fn, { forkOptions, beforeStart } = {}) {
  await system.reset(env);
  const c = await system.client(env);
  const w = forkWorker(system.file, env, forkOptions);
  try {
    await w.waitFor("ready");
    w.send({ type: "start", concurrency: 10, report, mode: "latency" });
    await w.waitFor("started");
    await c.prepareAwait?.();
    await beforeStart?.();
    return await fn(c, w);
  } finally {
    await w.stop();
    await c.close();
  }
}

/** (4) Pickup latency: enqueue call start -> closure start in an idle worker process, sequential single jobs. */
export async function pickup(system, env, samples, log, opts) {
  return withIdleWorker(system, env, "each", async (c, w) => {
    const starts = new Map();
    let waiting = null;
    w.on((m) => {
      if (m.type !== "job") return;
      starts.set(m.seq, m.at);
      if (waiting?.seq === m.seq) waiting.resolve();
    });
    const latencies = [];
    const warmup = 5;
    for (let i = 0; i < samples + warmup; i++) {
      const seq = 1_000_000 + i;
      await randomPhase(system);
      const arrived = new Promise((resolve) => (waiting = { seq, resolve }));
      const t0 = nowMs();
      await c.enqueue(seq);
      await Promise.race([arrived, sleep(30_000)]);
      if (!starts.has(seq)) throw new Error(`${system.name}: job ${seq} did not start within 30 s`);
      if (i >= warmup) latencies.push(starts.get(seq) - t0);
      await sleep(5); // let the worker finish and go idle
    }
    const s = latencySummary(latencies);
    log(`  pickup: p50 ${s.p50.toFixed(2)} p95 ${s.p95.toFixed(2)} p99 ${s.p99.toFixed(2)} ms (n=${s.n})`);
    return { ...s, samples: latencies };
  }, opts);
}

/** (5) Await round trip: enqueue + wait for the recorded result, sequential. */
export async function awaitRoundTrip(system, env, samples, log, opts) {
  if (!system.hasAwait) return null;
  return withIdleWorker(system, env, "drain", async (c) => {
    const latencies = [];
    const warmup = 5;
    let from = NaN;
    for (let i = 0; i < samples + warmup; i++) {
      const seq = 2_000_000 + i;
      if (i === warmup) from = nowMs();
      await randomPhase(system);
      const t0 = nowMs();
      const ref = await c.enqueue(seq);
      const result = await c.awaitResult(ref);
      const t1 = nowMs();
      if (Number(result) !== seq) throw new Error(`${system.name}: await returned ${JSON.stringify(result)} for job ${seq}`);
      if (i >= warmup) latencies.push(t1 - t0);
    }
    const s = latencySummary(latencies);
    log(`  await: p50 ${s.p50.toFixed(2)} p95 ${s.p95.toFixed(2)} p99 ${s.p99.toFixed(2)} ms (n=${s.n})`);
    return { ...s, samples: latencies, window: [from, nowMs()] };
  }, opts);
}

/**
 * (6) Enqueue rate: `producers` concurrent loops, each awaiting one single
 * enqueue call after another (producers = 1 is the sequential
 * `await durable.async(...)` of a request handler).
 */
export async function enqueueRate(system, env, size, producers, log) {
  const rates = [];
  for (let rep = 0; rep < size.reps; rep++) {
    await system.reset(env);
    const c = await system.client(env);
    try {
      // Warm: connections, prepared statements, catalog rows; and one call per producer slot.
      await Promise.all(Array.from({ length: producers }, (_, i) => c.enqueue(-1 - i)));
      let next = 0;
      const total = producers === 1 ? size.singleJobs : size.concurrentJobs;
      const loop = async () => {
        while (next < total) await c.enqueue(next++);
      };
      const t0 = nowMs();
      await Promise.all(Array.from({ length: producers }, loop));
      rates.push((total / (nowMs() - t0)) * 1000);
    } finally {
      await c.close();
    }
  }
  log(`  enqueue × ${producers}: ${rates.map((r) => r.toFixed(0)).join(", ")} jobs/s`);
  return { rate: median(rates), runs: rates };
}
