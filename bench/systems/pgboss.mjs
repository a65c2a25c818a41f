// pg-boss 12 in its documented fast configuration: LISTEN/NOTIFY on
// (`useListenNotify`, queue `notify: true`) so an idle worker wakes on a new
// job instead of its poll, and batch fetch (`batchSize` = the concurrency,
// `burstWhenBatchFull`: a full batch fetches again at once; each batch's jobs
// run at the same time, settled one by one with `perJobResults`). Its
// `engines` asks for Node 22; it runs on Node 20 (npm only warns). Results:
// pg-boss has no completion subscription, so the awaiting side polls
// getJobById() every 5 ms for the output the handler returned.
import { PgBoss } from "pg-boss";
import pg from "pg";
import { sleep } from "../lib/clock.mjs";

export const name = "pg-boss";
export const hasAwait = true;
const SCHEMA = "bench_pgboss";
const QUEUE = "bench";

const boss = (env, extra = {}) =>
  new PgBoss({ connectionString: env.pgUrl, schema: SCHEMA, supervise: false, schedule: false, max: 10, useListenNotify: true, ...extra });

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
  await b.createQueue(QUEUE, { notify: true });
  await b.stop({ graceful: false, wait: true });
}

export async function client(env) {
  const b = boss(env, { migrate: false });
  b.on("error", () => undefined);
  b.on("warning", () => undefined);
  await b.start();
  return {
    async insertBulk(from, count) {
      const jobs = [];
      for (let i = 0; i < count; i++) jobs.push({ data: { seq: from + i } });
      await b.insert(QUEUE, jobs);
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

export async function worker(env, { concurrency, onJob }) {
  const b = boss(env, { migrate: false });
  b.on("error", () => undefined);
  b.on("warning", () => undefined);
  await b.start();
  const options = { batchSize: concurrency, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5, perJobResults: true };
  await b.work(QUEUE, options, async (jobs) =>
    Promise.all(jobs.map(async (job) => ({ id: job.id, status: "completed", output: { value: await onJob(job.data) } }))),
  );
  return { stop: () => b.stop({ graceful: true, wait: true }) };
}
