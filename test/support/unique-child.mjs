// A separate process for the concurrent-uniqueness test: waits for "go" on
// stdin-less IPC, then fires its inserts at once and reports the handles.
import { DurableInstance } from "../../dist/src/index.js";
import { replyToUnknown } from "./semantics-tasks.mjs";

const [url, schema, count] = process.argv.slice(2);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const d = new DurableInstance({ database: url, schema, run: false, logger: quiet, handleSignals: false, migrate: false });
await d.start();
process.send({ ready: true });
process.once("message", async () => {
  const calls = Array.from({ length: Number(count) }, () =>
    d.async(replyToUnknown, { sender: "+15550001" }, { maxAttempts: 1, meta: { sender: "+15550001" }, unique: { by: ["meta"], keys: ["sender"], period: "24h" } }),
  );
  const handles = await Promise.all(calls);
  process.send({ handles: handles.map((h) => ({ id: h.id, conflict: h.conflict })) });
  await d.stop();
  process.exit(0);
});
