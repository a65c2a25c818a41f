// A durable-async worker process that runs a fixed number of jobs and reports
// its memory: run by scale.mjs against a queue of 10k and of 1M jobs, to check
// that the runner's memory does not grow with the queue (issue 7 item 2).
//   node --expose-gc bench/lib/runner-memory.mjs <database url> <schema> <jobs>
import { distUrl } from "./dist.mjs";
import { hooks } from "../tasks.mjs";

const { DurableInstance } = await import(distUrl("src/index.js"));
const [url, schema, jobs] = process.argv.slice(2);
const target = Number(jobs);
let ran = 0;
let reached;
const done = new Promise((r) => (reached = r));
hooks.job = () => {
  if (++ran === target) reached();
};
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const instance = new DurableInstance({ database: url, schema, queues: { ad_hoc_worker: 10 }, logger: quiet, handleSignals: false, migrate: false });
const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
const settled = () => (globalThis.gc?.(), process.memoryUsage());
await instance.start();
const before = settled();
let peak = before.rss;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
await Promise.race([done, new Promise((r) => setTimeout(r, 60_000))]);
clearInterval(timer);
const after = settled();
await instance.stop({ grace: 2_000 });
console.log(JSON.stringify({ ran, rssStart: mb(before.rss), rssPeak: mb(peak), rssEnd: mb(after.rss), heapStart: mb(before.heapUsed), heapEnd: mb(after.heapUsed) }));
