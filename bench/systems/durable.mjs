// durable-async, through the same low-level API the transformer compiles to.
import pg from "pg";
import { distUrl } from "../lib/dist.mjs";
import { hooks, noop } from "../tasks.mjs";

const { DurableInstance } = await import(distUrl("src/index.js"));

export const name = "durable-async";
export const hasAwait = true;
const SCHEMA = "bench_durable";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export function available() {
  return true;
}

export async function reset(env) {
  const pool = new pg.Pool({ connectionString: env.pgUrl, max: 1 });
  pool.on("error", () => undefined);
  await pool.query(`drop schema if exists ${SCHEMA} cascade`);
  await pool.end();
  const instance = new DurableInstance({ database: env.pgUrl, schema: SCHEMA, run: false, logger: quiet, handleSignals: false });
  await instance.start();
  await instance.stop();
}

export async function client(env) {
  const instance = new DurableInstance({ database: env.pgUrl, schema: SCHEMA, run: false, logger: quiet, handleSignals: false });
  await instance.start();
  return {
    instance,
    async insertBulk(from, count, options) {
      const items = [];
      for (let i = 0; i < count; i++) items.push([noop, { seq: from + i }, options?.(from + i)]);
      await instance.asyncMany(items);
    },
    enqueue: (seq) => instance.async(noop, { seq }),
    awaitResult: (handle) => instance.await(handle, { timeout: "60s" }),
    async remaining() {
      const { rows } = await instance.pool.query(`select count(*)::int as n from ${SCHEMA}.jobs_active`);
      return rows[0].n;
    },
    close: () => instance.stop(),
  };
}

/** Does the `unique` option dedupe in this build? Two identical unique inserts must yield one job. */
export async function uniqueWorks(c) {
  const opts = { unique: { period: "1h" } };
  try {
    const [a, b] = [await c.instance.async(noop, { seq: -1 }, opts), await c.instance.async(noop, { seq: -1 }, opts)];
    return b.conflict === true && a.id === b.id;
  } catch {
    return false;
  }
}

export async function worker(env, { concurrency, onJob }) {
  hooks.job = onJob;
  const instance = new DurableInstance({
    database: env.pgUrl,
    schema: SCHEMA,
    queues: { ad_hoc_worker: concurrency },
    logger: quiet,
    handleSignals: false,
    migrate: false,
  });
  await instance.start();
  return { stop: () => instance.stop({ grace: 5_000 }) };
}
