// A worker node in its own process: `node worker-process.mjs <schema> [concurrency] [leaseTtlMs]`.
// Tells the parent "ready" over IPC, runs until SIGTERM (graceful) or SIGKILL.
import { DurableInstance } from "../../dist/src/index.js";
import "./process-tasks.mjs";
import "./tasks.mjs";
import "./semantics-tasks.mjs";
import "./steps-tasks.mjs";

const [schema, concurrency = "10", leaseTtl = "10000", mode = "worker"] = process.argv.slice(2);
const quiet = { debug() {}, info() {}, warn() {}, error: (m, f) => process.stderr.write(`${m} ${JSON.stringify(f)}\n`) };
const instance = new DurableInstance({
  database: process.env.DURABLE_TEST_DATABASE_URL,
  schema,
  queues: mode === "worker" ? { ad_hoc_worker: Number(concurrency) } : undefined,
  run: mode === "worker",
  leaseTtl: Number(leaseTtl),
  heartbeatInterval: Math.min(2000, Number(leaseTtl) / 4),
  logger: quiet,
  handleSignals: true,
  ...(process.env.DURABLE_TEST_GRACE ? { shutdownGrace: Number(process.env.DURABLE_TEST_GRACE) } : {}),
});
await instance.start();
process.send?.({ ready: true, pid: process.pid });
process.on("message", async (message) => {
  if (message?.await) {
    try {
      const result = await instance.await(message.await, { timeout: "30s" });
      process.send?.({ result });
    } catch (error) {
      process.send?.({ error: error.message });
    }
  }
});
