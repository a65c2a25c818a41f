// graphile-worker 0.16.6 (the last release that runs on Node 20). Bulk insert
// goes through its documented add_jobs() SQL function (0.16 has no JS addJobs);
// it has no result API, so the await workload is n/a.
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
      await pool.query(
        `select count(*) from ${SCHEMA}.add_jobs((select array_agg(s) from json_populate_recordset(null::${SCHEMA}.job_spec, $1::json) s))`,
        [JSON.stringify(specs)],
      );
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
  });
  return { stop: () => runner.stop() };
}
