// A worker node. Its entry imports no task module: the Node hook's discovery
// registers every stub of the project, so it can still run renderInvoice.
import { durable } from "durable-async";

await durable.start({ nodeType: "worker" });
console.log(`[worker ${process.pid}] ready`);
process.send?.("ready");
