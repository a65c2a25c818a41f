// durable.bulk() in a process with Node's default unhandled-rejection mode
// (throw): any rejection nobody handles ends it with a non-zero exit before
// it can print its report. Inserts into `failing` are refused by a check
// constraint the test adds; `healthy` works.
import { durable } from "../../dist/src/index.js";
import { echo } from "./tasks.mjs";

const [url, schema] = process.argv.slice(2);
const logged = [];
const logger = { debug() {}, info() {}, warn() {}, error: (message, fields) => logged.push({ message, ...fields }) };
const events = [];
durable.on("job:insert-error", (e) => events.push({ task: e.task, caller: e.caller, error: e.error.message }));
await durable.start({ database: url, schema, logger, run: false, handleSignals: false });

const failing = { nodeType: "datasync" };
// 1. Fire-and-forget calls inside an awaited bulk whose insert fails.
const awaited = await durable.bulk(() => {
  for (let i = 0; i < 3; i++) durable.async(echo, { value: i }, failing);
}).then(() => "resolved", (e) => `rejected: ${e.message}`);
// 2. A bulk nobody awaits, whose insert fails.
durable.bulk(() => void durable.async(echo, { value: "x" }, failing));
// 3. A bulk callback that throws, not awaited either.
durable.bulk(() => {
  durable.async(echo, { value: "y" });
  throw new Error("changed my mind");
});
// 4. A callback that returns (or awaits) one of its own calls: inserted, not stuck.
const returned = await durable.bulk(() => durable.async(echo, { value: "returned" }));
const awaitedInside = await durable.bulk(async () => {
  const first = await durable.async(echo, { value: "a" });
  const [b, c] = await Promise.all([durable.async(echo, { value: "b" }), durable.async(echo, { value: "c" })]);
  durable.async(echo, { value: "d" });
  return [first.id, b.id, c.id];
});
// 5. Calls made without waiting still go in one insert.
let statements = 0;
durable.on("job:insert", () => statements++);
const many = await durable.bulk(() => {
  for (let i = 0; i < 50; i++) durable.async(echo, { value: i });
});

await new Promise((r) => setTimeout(r, 200));
await durable.stop();
process.stdout.write(JSON.stringify({ awaited, returned: returned.length, awaitedInside: awaitedInside.length, many: many.length, statements, events, logged }) + "\n");
