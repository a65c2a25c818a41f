// pg-boss 10. Its work() loop sleeps for the polling interval (at least
// 500 ms) after every fetch, even a full one, and v10 has no per-worker
// concurrency option. For the drain, a worker of concurrency N is therefore
// N loops of fetch(batchSize 1) -> handler -> complete(), each sleeping
// 500 ms (the shortest interval pg-boss allows) only when the queue was empty;
// work() itself would cap each loop at 2 jobs/s. For pickup and await (one
// job at a time) the worker is plain work() at that 500 ms interval, as a
// pg-boss user would write it; v10 has no LISTEN wake-up across processes.
// Results: complete() records the handler's value as the job's output, which
// the awaiting side polls with getJobById() every 5 ms (pg-boss has no
// completion subscription).
import PgBoss from "pg-boss";
import pg from "pg";
import { sleep } from "../lib/clock.mjs";

export const name = "pg-boss";
export const hasAwait = true;
/** Latency samples start at a random phase of this interval (lib/workloads.mjs). */
export const pollsForWork = 500;
const SCHEMA = "bench_pgboss";
const QUEUE = "bench";
const EMPTY_POLL_MS = 500;

const boss = (env, extra = {}) =>
  new PgBoss({ connectionString: env.pgUrl, schema: SCHEMA, supervise: false, schedule: false, max: 10, ...extra });

export function available() {
  return true;
}

export async function reset(env) {
  const pool = new pg.Pool({ connectionString: env.pgUrl, max: 1 });
  pool.on("error", () => undefined);
  await pool.query(`drop schema if exists ${SCHEMA} cascade`);
  await pool.end();
  const b = boss(env);
  b.on("error", () => undefined);
  await b.start();
  await b.createQueue(QUEUE);
  await b.stop({ graceful: false, wait: true });
}

export async function client(env) {
  const b = boss(env, { migrate: false });
  b.on("error", () => undefined);
  await b.start();
  return {
    async insertBulk(from, count) {
      const jobs = [];
      for (let i = 0; i < count; i++) jobs.push({ name: QUEUE, data: { seq: from + i } });
      await b.insert(jobs);
    },
    enqueue: (seq) => b.send(QUEUE, { seq }),
    async awaitResult(id) {
      for (;;) {
        const job = await b.getJobById(QUEUE, id);
        if (job?.state === "completed") return job.output?.value ?? job.output;
        if (job?.state === "failed") throw new Error("pg-boss job failed");
        await sleep(5);
      }
    },
    async remaining() {
      const { rows } = await b.getDb().executeSql(`select count(*)::int as n from ${SCHEMA}.job where state in ('created','retry','active')`, []);
      return rows[0].n;
    },
    close: () => b.stop({ graceful: false, wait: true }),
  };
}

export async function worker(env, { concurrency, onJob, mode }) {
  const b = boss(env, { migrate: false });
  b.on("error", () => undefined);
  await b.start();
  if (mode === "latency") {
    await b.work(QUEUE, { pollingIntervalSeconds: EMPTY_POLL_MS / 1000, batchSize: 1 }, ([job]) => onJob(job.data));
    return { stop: () => b.stop({ graceful: true, wait: true }) };
  }
  let stopping = false;
  const loop = async () => {
    while (!stopping) {
      const [job] = await b.fetch(QUEUE, { batchSize: 1 });
      if (!job) {
        await sleep(EMPTY_POLL_MS);
        continue;
      }
      const output = await onJob(job.data);
      await b.complete(QUEUE, job.id, output);
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    async stop() {
      stopping = true;
      await Promise.allSettled(loops);
      await b.stop({ graceful: false, wait: true });
    },
  };
}
