// A small app in two builds for the deploy test (test/faults/deploy.test.ts),
// its stubs written as the transformer emits them. v2 keeps `send`, changes
// the body of `bill` (same capture names), renames the capture of `notify`
// (n → id: a new body hash no v1 node may run, and the other way round), and
// adds `audit`. Every execution is recorded with the build that ran it.
import pg from "pg";

const dist = process.env.DURABLE_FAULT_DIST ?? new URL("../../dist/", import.meta.url).href;
const { __durableTask, durable } = await import(new URL("src/index.js", dist.endsWith("/") ? dist : dist + "/").href);

const build = process.env.DEPLOY_BUILD ?? "v1";
let recorder = null;
async function record(task, value) {
  recorder ??= new pg.Pool({ connectionString: process.env.FAULT_RECORD_URL, max: 4 });
  const { jobId, attempt } = durable.context();
  await recorder.query(`insert into "${process.env.FAULT_SCHEMA}".deploy_executions (job_id, attempt, worker, build, task) values ($1, $2, $3, $4, $5)`,
    [jobId, attempt, process.env.FAULT_WORKER, build, task]);
  await new Promise((resolve) => setTimeout(resolve, 5 + (Number(value) % 15)));
  return value;
}

const def = (id, hash, captures, run) =>
  __durableTask({ id, hash, caller: { file: "src/app.ts", fn: id.split("#")[1], line: 1, column: 1 }, source: `/* ${hash} */`, captures, kind: "async", run });

export const v1 = {
  send: { id: "deploy#send", hash: "send-0001", captures: ["n"] },
  bill: { id: "deploy#bill", hash: "bill-0001", captures: ["n"] },
  notify: { id: "deploy#notify", hash: "notify-0001", captures: ["n"] },
};
export const v2 = {
  send: v1.send,
  bill: { id: "deploy#bill", hash: "bill-0002", captures: ["n"] },
  notify: { id: "deploy#notify", hash: "notify-0002", captures: ["id"] },
  audit: { id: "deploy#audit", hash: "audit-0002", captures: ["n"] },
};

/** Registers this process's build of the app (DEPLOY_BUILD). */
export function registerApp() {
  if (build === "v1") {
    def(v1.send.id, v1.send.hash, ["n"], ({ n }) => record("send", n));
    def(v1.bill.id, v1.bill.hash, ["n"], ({ n }) => record("bill", n));
    def(v1.notify.id, v1.notify.hash, ["n"], ({ n }) => record("notify", n));
  } else {
    def(v2.send.id, v2.send.hash, ["n"], ({ n }) => record("send", n));
    def(v2.bill.id, v2.bill.hash, ["n"], ({ n }) => record("bill", Number(n)));
    def(v2.notify.id, v2.notify.hash, ["id"], ({ id }) => record("notify", id));
    def(v2.audit.id, v2.audit.hash, ["n"], ({ n }) => record("audit", n));
  }
}
