// graphile-worker 0.18 in its documented fast configuration: a local queue
// (jobs fetched and locked in batches, size concurrency + 1, as its
// performance docs suggest) and batched completions. Its `engines` asks for
// Node 22; it runs on Node 20 (npm only warns). Bulk insert is WorkerUtils'
// addJobs(); it has no result API, so the await workload is n/a.
import pg from "pg";
import { makeWorkerUtils, run, Logger } from "graphile-worker";

export const name = "graphile-worker";
export const hasAwait = false;
const SCHEMA = "bench_graphile";
const logger = new Logger(() => () => undefined);

export function available() {
  return true;
}

export async function reset(env) {
  const pool = new pg.Pool({ connectionString: env.pgUrl, max: 1 });
  pool.on("error", () => undefined);
  await pool.query(`drop schema if exists ${SCHEMA} cascade`);
  await pool.end();
  const utils = await makeWorkerUtils({ connectionString: env.pgUrl, schema: SCHEMA, logger });
  await utils.migrate();
  await utils.release();
}

export async function client(env) {
  const utils = await makeWorkerUtils({ connectionString: env.pgUrl, schema: SCHEMA, logger });
  const pool = new pg.Pool({ connectionString: env.pgUrl, max: 2 });
  pool.on("error", () => undefined);
  return {
    async insertBulk(from, count) {
      const specs = [];
      for (let i = 0; i < count; i++) specs.push({ identifier: "noop", payload: { seq: from + i } });
      await utils.addJobs(specs);
    },
    enqueue: (seq) => utils.addJob("noop", { seq }),
    awaitResult: null,
    async remaining() {
      const { rows } = await pool.query(`select count(*)::int as n from ${SCHEMA}._private_jobs`);
      return rows[0].n;
    },
    async close() {
      await utils.release();
      await pool.end();
    },
  };
}

export async function worker(env, { concurrency, onJob }) {
  const runner = await run({
    connectionString: env.pgUrl,
    schema: SCHEMA,
    concurrency,
    noHandleSignals: true,
    logger,
    taskList: { noop: async (payload) => onJob(payload) },
    preset: { worker: { localQueue: { size: concurrency + 1 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  });
  return { stop: () => runner.stop() };
}
