// One worker process of the demo: `worker.ts <nodeType>`. It imports no task
// module; the Node hook's discovery registers every stub in examples/demo.
import { durable } from "durable-async";

const nodeType = process.argv[2] ?? "worker";
const tag = `[${nodeType} ${process.pid}]`.padEnd(18);
const ms = (d: number) => `${Math.round(d)} ms`;

await durable.start({ nodeType, handleSignals: true, logger: { debug() {}, info() {}, warn: console.warn, error: console.error } });
durable.on("job:start", ({ job }) => console.log(`${tag} ▶ job ${job.id} ${job.task} (attempt ${job.attempt}/${job.maxAttempts})`));
durable.on("job:stop", ({ job, durationMs }) => console.log(`${tag} ✓ job ${job.id} ${job.task} completed in ${ms(durationMs)}`));
durable.on("job:error", ({ job, state, error }) => console.log(`${tag} ✗ job ${job.id} ${job.task} attempt ${job.attempt}: ${error.message} → ${state}`));
process.send?.({ ready: nodeType, pid: process.pid });
