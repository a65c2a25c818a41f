import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import pg from "pg";
import { dedicatedServer, FaultRun, report, until, type FaultServer, type WorkerHandle } from "./harness.js";
import { SilentProxy, type SilenceMode } from "./proxy.js";

// 10,000 jobs across 3 worker processes while one fault strikes mid-run.
// Each scenario asserts: every job completes, none is lost, none runs again
// after it succeeded, the workers recover by themselves; it reports the
// rescue and reconnect times. Each run is bounded and cleans up after itself.

const TOTAL = Number(process.env.DURABLE_FAULT_JOBS ?? 10_000);
const dist = inject("faultDist");
process.env.DURABLE_FAULT_DIST = dist;

let server: FaultServer;
beforeAll(async () => {
  server = await dedicatedServer();
});
afterAll(async () => {
  await server?.stop();
});

/** DATABASE_URL when given (every scenario but the restart, which needs a server of its own). */
const sharedUrl = () => process.env.DATABASE_URL ?? server.url;

const firstLog = (workers: WorkerHandle[], pattern: RegExp, after: number) =>
  Math.min(...workers.flatMap((w) => w.logs.filter((l) => l.at >= after && pattern.test(l.msg)).map((l) => l.at)));

async function scenario(name: string, url: string, body: (run: FaultRun) => Promise<Record<string, unknown>>, workerUrls?: string[]) {
  const run = new FaultRun({ name, url, dist, workerUrls });
  const started = Date.now();
  let passed = false;
  try {
    await run.setup();
    const extra = await body(run);
    const figures = await run.verify(TOTAL + Number(extra.extraJobs ?? 0));
    report(`${name}: ${TOTAL.toLocaleString("en-US")} jobs, 3 workers`, { ...figures, ...extra, wallClockMs: Date.now() - started, unexpectedExits: run.unexpectedExits });
    expect(run.unexpectedExits).toEqual([]);
    expect(figures.lost).toBe(0);
    expect(figures.notCompleted).toBe(0);
    expect(figures.wrongResults).toBe(0);
    expect(figures.duplicatesAfterSuccess).toBe(0);
    expect(figures.completedTwice).toBe(0);
    passed = true;
  } finally {
    await run.close();
    if (passed) await run.drop(url);
  }
}

describe("fault suite", () => {
  it("(a) a worker is killed with SIGKILL: its jobs are rescued by the others", async () => {
    await scenario("a_sigkill", sharedUrl(), async (run) => {
      const enqueue = run.enqueue(TOTAL);
      await until("the load to be under way", async () => (await run.counts()).completed > TOTAL * 0.2, 60_000);
      const victim = run.workers[0]!;
      const held = await run.heldBy(victim.nodeId);
      const killedAt = Date.now();
      victim.child.kill("SIGKILL");
      await until("the victim's jobs to be rescued", async () => (await run.heldBy(victim.nodeId)) === 0, 60_000, 50);
      const rescueMs = Date.now() - killedAt;
      await enqueue;
      const drainMs = await run.waitAllCompleted(TOTAL, 180_000);
      // Read after the drain: the event crosses IPC after the rows have changed.
      const firstRescueLogMs = firstLog(run.workers.slice(1), /^job:rescue$/, killedAt) - killedAt;
      return { heldByVictimAtKill: held, rescueMs, firstRescueEventMs: firstRescueLogMs, drainAfterEnqueueMs: drainMs };
    });
  });

  it("(b) PostgreSQL restarts mid-run: every worker reconnects by itself", async () => {
    const own = await dedicatedServer();
    try {
      await scenario("b_restart", own.url, async (run) => {
        const enqueue = run.enqueue(TOTAL);
        await until("the load to be under way", async () => (await run.counts()).completed > TOTAL * 0.2, 60_000);
        // Immediate shutdown (a crash: no checkpoint, recovery from WAL on start), down for a few seconds.
        const { downAt, upAt } = await own.restart({ mode: "immediate", downMs: Number(process.env.DURABLE_FAULT_DOWN_MS ?? 5_000) });
        // Each worker's heartbeat lands again: its pool reconnected.
        const reconnect: Record<string, number> = {};
        await until("every worker to heartbeat after the restart", async () => {
          run.checkAlive();
          for (const w of run.workers) {
            const at = await run.heartbeatAt(w.nodeId).catch(() => null);
            if (at !== null && at > upAt && reconnect[w.name] === undefined) reconnect[w.name] = Date.now() - upAt;
          }
          return Object.keys(reconnect).length === run.workers.length;
        }, 60_000, 100);
        await until("every notifier to reconnect", () => {
          run.checkAlive();
          return run.workers.every((w) => w.logs.some((l) => l.at >= downAt && /notification connection restored/.test(l.msg)));
        }, 60_000);
        // Both measured from the moment the server answers again (a reconnect may land just before start() returns).
        const notifierMs = Object.fromEntries(run.workers.map((w) => [w.name, Math.max(0, firstLog([w], /notification connection restored/, downAt) - upAt)]));
        await enqueue;
        const drainMs = await run.waitAllCompleted(TOTAL, 180_000);
        return { downtimeMs: upAt - downAt, heartbeatBackAfterUpMs: reconnect, notifierBackAfterUpMs: notifierMs, drainAfterEnqueueMs: drainMs };
      });
    } finally {
      await own.stop();
    }
  });

  async function silentWorker(name: string, mode: SilenceMode) {
    const target = new URL(sharedUrl());
    const proxy = new SilentProxy({ host: target.hostname, port: Number(target.port) }, mode);
    await proxy.start();
    const viaProxy = new URL(sharedUrl());
    viaProxy.port = String(proxy.port);
    const silenceMs = Number(process.env.DURABLE_FAULT_SILENCE_MS ?? 30_000);
    try {
      await scenario(name, sharedUrl(), async (run) => {
        const victim = run.workers[2]!;
        const enqueue = run.enqueue(TOTAL);
        await until("the load to be under way", async () => (await run.counts()).completed > TOTAL * 0.2, 60_000);
        const held = await run.heldBy(victim.nodeId);
        const silentAt = Date.now();
        proxy.goSilent();
        await until("the silent worker's jobs to be rescued", async () => (await run.heldBy(victim.nodeId)) === 0, 60_000, 50);
        const rescueMs = Date.now() - silentAt;
        await new Promise((r) => setTimeout(r, Math.max(0, silentAt + silenceMs - Date.now())));
        proxy.resume();
        const resumedAt = Date.now();
        await until("the silent worker to heartbeat again", async () => ((await run.heartbeatAt(victim.nodeId)) ?? 0) > resumedAt, 120_000, 100);
        const heartbeatBackMs = Date.now() - resumedAt;
        await enqueue;
        // Keep work coming after the heal until the worker that was cut off runs jobs again (bounded).
        let extra = 0;
        await until("the silent worker to run jobs again", async () => {
          if ((await run.executionsBy(victim.name, resumedAt)) > 0) return true;
          await run.enqueue(60, { from: TOTAL + extra, chunk: 60, everyMs: 0 });
          extra += 60;
          return false;
        }, 120_000, 250);
        const victimBackMs = Date.now() - resumedAt;
        await run.waitAllCompleted(TOTAL + extra, 180_000);
        const victimRunsAfterHeal = await run.executionsBy(victim.name, resumedAt);
        // A black-holed LISTEN connection is only noticed by the notifier's ping; a paused one just resumes.
        if (mode === "blackhole") await until("the silent worker's notifier to reconnect", () => victim.logs.some((l) => l.at >= silentAt && /notification connection restored/.test(l.msg)), 60_000);
        const notifierBack = firstLog([victim], /notification connection restored/, silentAt);
        return {
          mode, silenceMs, heldByVictimAtSilence: held, rescueMs, heartbeatBackAfterHealMs: heartbeatBackMs,
          notifierReconnectedAfterHealMs: Number.isFinite(notifierBack) ? notifierBack - resumedAt : "kept its connection",
          runsJobsAgainAfterHealMs: victimBackMs, victimRunsAfterHeal, extraJobs: extra,
        };
      }, [sharedUrl(), sharedUrl(), viaProxy.href]);
    } finally {
      await proxy.stop();
    }
  }

  it("(c) the connection of one worker goes silent (half-open) for 30 s and never comes back", async () => {
    await silentWorker("c_halfopen", "blackhole");
  });

  it("(c') the connection of one worker stalls for 30 s, then delivers everything late", async () => {
    await silentWorker("c_stall", "pause");
  });

  it("(d) the LISTEN connection is dropped: notifiers reconnect, no job waits for a poll forever", async () => {
    await scenario("d_listen", sharedUrl(), async (run) => {
      const enqueue = run.enqueue(TOTAL);
      await until("the load to be under way", async () => (await run.counts()).completed > TOTAL * 0.2, 60_000);
      const before = await Promise.all(run.workers.map((w) => w.request("notifierPid").then((m) => m.pid as number)));
      expect(before.every((pid) => typeof pid === "number")).toBe(true);
      const admin = new pg.Client({ connectionString: sharedUrl() });
      await admin.connect();
      const droppedAt = Date.now();
      const { rows } = await admin.query("select pg_terminate_backend(pid) as ok from unnest($1::int[]) pid", [before]);
      await admin.end();
      expect(rows.every((r) => r.ok)).toBe(true);
      const after = await until("every notifier to be back on a new backend", async () => {
        const pids = await Promise.all(run.workers.map((w) => w.request("notifierPid").then((m) => m.pid as number | null)));
        return pids.every((pid, i) => pid !== null && pid !== before[i]) ? pids : null;
      }, 30_000, 50);
      const reconnectMs = Object.fromEntries(run.workers.map((w) => [w.name, firstLog([w], /notification connection restored/, droppedAt) - droppedAt]));
      await enqueue;
      const drainMs = await run.waitAllCompleted(TOTAL, 180_000);
      return { listenBackends: `${before.join(",")} -> ${after.join(",")}`, notifierReconnectMs: reconnectMs, drainAfterEnqueueMs: drainMs };
    });
  });
});
