// A worker node of the steps bench: `node bench/steps/worker.mjs <schema> <concurrency>`.
// Counts the executions (starts) of each task; the bench asks over IPC.
import { DurableInstance } from "../../dist/src/index.js";
import "./tasks.mjs";

const [schema, concurrency] = process.argv.slice(2);
const quiet = { debug() {}, info() {}, warn() {}, error: (m, f) => process.stderr.write(`${m} ${JSON.stringify(f)}\n`) };
const instance = new DurableInstance({ database: process.env.DATABASE_URL, schema, queues: { ad_hoc_worker: Number(concurrency) }, logger: quiet, handleSignals: true });
const starts = {};
instance.on("job:start", ({ job }) => (starts[job.task] = (starts[job.task] ?? 0) + 1));
await instance.start();
process.send({ ready: true });
process.on("message", (message) => {
  if (message?.stats) process.send({ starts: { ...starts } });
  if (message?.reset) for (const key of Object.keys(starts)) delete starts[key];
});
