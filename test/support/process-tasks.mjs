// Stubs for multi-process tests. Each execution is recorded in a side table,
// so a test can tell "ran once" from "ran twice" regardless of job state.
import pg from "pg";
import { __durableTask, durable } from "../../dist/src/index.js";

let pool;
const db = () => (pool ??= new pg.Pool({ connectionString: process.env.DURABLE_TEST_DATABASE_URL, max: 4 }));
const def = (id, captures, run) =>
  __durableTask({ id, hash: "h-" + id, caller: { file: "test/support/process-tasks.mjs", fn: "tests", line: 1, column: 1 }, source: "() => …", captures, kind: "async", run });

export const recordExecution = def("proc#record", ["schema", "n"], async ({ schema, n }) => {
  const { jobId, attempt } = durable.context();
  await db().query(`insert into "${schema}".executions (job_id, n, pid, attempt) values ($1, $2, $3, $4)`, [jobId, n, process.pid, attempt]);
  return process.pid;
});

/** Blocks forever on its first attempt (after telling the parent), succeeds on the next. */
export const hangFirstAttempt = def("proc#hang", [], async () => {
  const { attempt, jobId } = durable.context();
  if (attempt === 1) {
    process.send?.({ started: jobId, pid: process.pid });
    await new Promise(() => undefined);
  }
  return { attempt, pid: process.pid };
});
