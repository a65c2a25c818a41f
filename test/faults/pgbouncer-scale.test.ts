import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import pg from "pg";
import { PGBOUNCER_MISSING, pgbouncerBinary, startPgbouncer, type Bouncer } from "../support/pgbouncer.js";
import { dedicatedServer, FaultRun, report, type FaultServer } from "./harness.js";

// Many worker machines on one PostgreSQL through PgBouncer in transaction
// mode: 20 worker processes x concurrency 10 (200 job slots, 20 pools of 10)
// share PgBouncer's pool of 10 server connections. Half the nodes LISTEN on a
// direct connection, half poll alone. Every job must run to completion
// exactly once, and the server must never see more pooled connections than
// the pooler's pool size.

const WORKERS = Number(process.env.DURABLE_SCALE_WORKERS ?? 20);
const CONCURRENCY = 10;
const POOL_SIZE = 10;
const TOTAL = Number(process.env.DURABLE_SCALE_JOBS ?? 10_000);
const installed = pgbouncerBinary() !== null;
if (!installed) console.warn(`[scale] ${PGBOUNCER_MISSING}`);

const dist = inject("faultDist");
process.env.DURABLE_FAULT_DIST = dist;

describe.skipIf(!installed)("PgBouncer at scale", () => {
  let server: FaultServer;
  let bouncer: Bouncer;
  beforeAll(async () => {
    // A server of its own: 20 nodes' direct recorders and LISTEN connections need room (max_connections 300).
    server = await dedicatedServer();
    bouncer = await startPgbouncer(server.url, { poolSize: POOL_SIZE });
  });
  afterAll(async () => {
    await bouncer?.stop();
    await server?.stop();
  });

  it(`${WORKERS} worker processes x concurrency ${CONCURRENCY}: server connections stay at the pool size, every job done once`, async () => {
    const run = new FaultRun({
      name: "pgbouncer_scale",
      url: server.url,
      dist,
      workers: WORKERS,
      concurrency: CONCURRENCY,
      workerUrls: Array.from({ length: WORKERS }, () => bouncer.url),
      workerEnv: (i) => ({ DURABLE_LISTEN_URL: i % 2 === 0 ? `${server.url}?application_name=durable-listen` : "" }),
    });
    const direct = new pg.Pool({ connectionString: server.url, max: 1 });
    let peak = 0;
    let peakClients = 0;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await bouncer.serverConnections());
        peakClients = Math.max(peakClients, await bouncer.clientConnections());
        samples++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    let passed = false;
    const started = Date.now();
    try {
      await run.setup();
      const startedAllMs = Date.now() - started;
      const listening = await direct.query(`select count(*)::int as n from pg_stat_activity where application_name = 'durable-listen'`);
      const enqueueStarted = Date.now();
      await run.enqueue(TOTAL, { chunk: 500, everyMs: 50 });
      await run.waitAllCompleted(TOTAL, 10 * 60_000);
      const drainMs = Date.now() - enqueueStarted;
      const figures = await run.verify(TOTAL);
      const perWorker = await run.pool.query(`select worker, count(*)::int as n from ${run.q}.fault_executions group by worker order by worker`);
      sampling = false;
      await sampler;
      report(`PgBouncer scale: ${TOTAL.toLocaleString("en-US")} jobs, ${WORKERS} workers x ${CONCURRENCY}`, {
        ...figures,
        poolerPoolSize: POOL_SIZE,
        peakServerConnectionsThroughPooler: peak,
        samples,
        peakClientConnectionsToPooler: peakClients,
        directListenConnections: listening.rows[0].n,
        listeningNodes: Math.ceil(WORKERS / 2),
        workersThatRanJobs: perWorker.rows.filter((r) => r.n > 0).length,
        nodesStartedMs: startedAllMs,
        enqueueAndDrainMs: drainMs,
        jobsPerSecond: Math.round(TOTAL / (drainMs / 1000)),
        unexpectedExits: run.unexpectedExits,
      });
      expect(run.unexpectedExits).toEqual([]);
      expect(figures.lost).toBe(0);
      expect(figures.notCompleted).toBe(0);
      expect(figures.wrongResults).toBe(0);
      expect(figures.duplicatesAfterSuccess).toBe(0);
      expect(figures.completedTwice).toBe(0);
      expect(figures.reExecutionsBeforeSuccess).toBe(0);
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(POOL_SIZE);
      // One LISTEN connection per listening node, none for the polling ones.
      expect(listening.rows[0].n).toBe(Math.ceil(WORKERS / 2));
      passed = true;
    } finally {
      sampling = false;
      await sampler.catch(() => undefined);
      await run.close();
      await direct.end();
      if (passed) await run.drop(server.url);
    }
  });
});
