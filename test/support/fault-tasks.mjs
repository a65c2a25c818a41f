// Task stubs for the fault suite (test/faults), written as the transformer
// emits them. The runtime is loaded from DURABLE_FAULT_DIST when set: the
// suite runs from a snapshot of dist/, so a rebuild by someone else in the
// same tree cannot pull files out from under running workers.
import pg from "pg";

const dist = process.env.DURABLE_FAULT_DIST ?? new URL("../../dist/", import.meta.url).href;
const { __durableTask, durable } = await import(new URL("src/index.js", dist.endsWith("/") ? dist : dist + "/").href);

const def = (id, captures, run) =>
  __durableTask({ id, hash: "h-" + id, caller: { file: "test/support/fault-tasks.mjs", fn: "faults", line: 1, column: 1 }, source: "() => …", captures, kind: "async", run });

// Executions are recorded on a direct connection (never through the fault
// proxy), so every run that actually happened is counted, whatever state the
// worker's own connections are in.
let recorder = null;
function record() {
  if (recorder) return recorder;
  recorder = new pg.Pool({ connectionString: process.env.FAULT_RECORD_URL, max: 4, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
  recorder.on("error", () => undefined);
  return recorder;
}
const schema = () => process.env.FAULT_SCHEMA;
const worker = () => process.env.FAULT_WORKER ?? `pid-${process.pid}`;

/** One unit of the fault load: records the execution, works for a few ms, returns n. */
export const work = def("faults#work", ["n", "ms"], async ({ n, ms }) => {
  const { jobId, attempt } = durable.context();
  await record().query(`insert into "${schema()}".fault_executions (job_id, attempt, worker) values ($1, $2, $3)`, [jobId, attempt, worker()]);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return n;
});

/** Soak load: fails on its first attempt, then succeeds. */
export const flaky = def("faults#flaky", ["n"], ({ n }) => {
  const { attempt } = durable.context();
  if (attempt === 1) throw new Error(`flaky ${n} fails once`);
  return { n, attempt };
});

/** Soak load: a result of some size, to exercise serialization and acks. */
export const payload = def("faults#payload", ["n", "size"], ({ n, size }) => ({ n, data: "x".repeat(size), at: new Date() }));

export async function closeRecorder() {
  await recorder?.end().catch(() => undefined);
  recorder = null;
}
