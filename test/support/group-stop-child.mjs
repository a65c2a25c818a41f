// A process that makes 200 concurrent durable.async() calls and sends itself
// SIGTERM while they are in flight. With handleSignals, durable stops
// gracefully (inserts in flight finish) and re-raises the signal. Prints
// one line per call as it settles: the job id, or "error <message>".
import { durable } from "../../dist/src/index.js";
import { echo } from "./tasks.mjs";

const [url, schema] = process.argv.slice(2);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
await durable.start({ database: url, schema, logger: quiet, run: false, handleSignals: true });
await durable.async(echo, { value: "warm" });
for (let i = 0; i < 200; i++) {
  durable.async(echo, { value: `p${i}` }).then(
    (handle) => process.stdout.write(`${handle.id}\n`),
    (error) => process.stdout.write(`error ${error.message}\n`),
  );
}
process.kill(process.pid, "SIGTERM");
