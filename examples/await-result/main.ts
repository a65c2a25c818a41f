// Awaiting a result produced by another process: this process is an API node
// (it runs only the api queue); renderInvoice runs on a separate worker process.
import { spawn } from "node:child_process";
import { AwaitTimeoutError, durable } from "durable-async";
import { enqueueInvoice, invoiceNow, type Invoice } from "./invoices.js";

await durable.start({ nodeType: "api" });
console.log(`[api ${process.pid}] started; forking a worker process`);
const worker = spawn(process.execPath, ["--import", "durable-async/register", "worker.ts"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
await new Promise((resolve, reject) => {
  worker.once("message", resolve);
  worker.once("exit", (code) => reject(new Error(`worker exited with ${code}`)));
});

// 1. durable.async, then durable.await with a timeout, from this process.
const job = await enqueueInvoice(1001);
const invoice = await durable.await<Invoice>(job, { timeout: "30s" });
console.log(`[api] job ${job.id}: invoice ${invoice.url} rendered by process ${invoice.renderedBy} (not ${process.pid}) at ${invoice.renderedAt.toISOString()}`);

// 2. durable.run: enqueue and await in one call.
const now = await invoiceNow(1002);
console.log(`[api] durable.run: invoice ${now.url} rendered by process ${now.renderedBy}`);

// 3. A timeout leaves the job running; a later await (by id, as another process would) gets the result.
const slow = await enqueueInvoice(1003, 1500);
try {
  await durable.await(slow, { timeout: "300ms" });
} catch (error) {
  if (!(error instanceof AwaitTimeoutError)) throw error;
  console.log(`[api] job ${slow.id}: no result within 300ms (${error.code}); the job keeps running`);
}
const late = await durable.await<Invoice>(slow.id, { timeout: "30s" });
console.log(`[api] job ${slow.id}: awaited again by id, invoice ${late.url}`);

worker.kill("SIGTERM");
await new Promise((resolve) => worker.once("exit", resolve));
await durable.stop();
console.log("[api] done");
