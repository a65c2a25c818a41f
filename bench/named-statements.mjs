// What named prepared statements buy on a direct connection: drains 20,000
// no-op jobs with one node at concurrency 10, with and without them,
// alternating, and prints the rates (jobs/s). Behind a transaction pooler
// they are off whatever this says; on a direct connection they are the
// default because of it (docs/OPERATIONS.md#pgbouncer).
//   npm run build && DATABASE_URL=postgres://… node bench/named-statements.mjs [rounds]
import pg from "pg";
import { distUrl } from "./lib/dist.mjs";

const { DurableInstance, __durableTask } = await import(distUrl("src/index.js"));
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const rounds = Number(process.argv[2] ?? 4);
const JOBS = 20_000;
const SCHEMA = "bench_named_statements";
const quiet = { debug() {}, info() {}, warn() {}, error: console.error };

let done = 0;
let allDone = () => undefined;
const noop = __durableTask({
  id: "bench#named-noop", hash: "named-noop-v1", caller: { file: "bench/named-statements.mjs", fn: null, line: 1, column: 1 },
  source: "() => undefined", captures: ["i"], kind: "async", run: () => void (++done === JOBS && allDone()),
});

async function round(preparedStatements) {
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  await admin.query(`drop schema if exists ${SCHEMA} cascade`);
  await admin.end();
  const api = new DurableInstance({ database: url, schema: SCHEMA, run: false, logger: quiet, handleSignals: false });
  await api.start();
  for (let i = 0; i < JOBS; i += 5_000) await api.asyncMany(Array.from({ length: 5_000 }, (_, k) => [noop, { i: i + k }]));
  done = 0;
  const finished = new Promise((resolve) => (allDone = resolve));
  const started = performance.now();
  const worker = new DurableInstance({ database: url, schema: SCHEMA, logger: quiet, handleSignals: false, preparedStatements, queues: { ad_hoc_worker: 10 } });
  await worker.start();
  await finished;
  const rate = Math.round(JOBS / ((performance.now() - started) / 1000));
  await worker.stop();
  await api.stop();
  return rate;
}

const rates = { named: [], unnamed: [] };
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first, so drift on a shared machine hits both alike.
  for (const prepared of r % 2 === 0 ? [true, false] : [false, true]) rates[prepared ? "named" : "unnamed"].push(await round(prepared));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(JSON.stringify({ jobs: JOBS, concurrency: 10, ...rates, medianNamed: median(rates.named), medianUnnamed: median(rates.unnamed) }));
