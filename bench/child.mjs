// A worker process of one system. Forked by run.mjs with the system name in
// argv[2] and the shared service addresses in BENCH_ENV. Protocol (IPC):
//   parent -> {type:"start", concurrency, report:"drain"|"each", mode:"drain"|"latency"} | {type:"stop"}
//   child  -> {type:"ready"} | {type:"started"} | {type:"progress", count, firstAt, lastAt}
//           | {type:"job", seq, at} | {type:"stopped"}
// "drain" reports counts every 20 ms; "each" reports every job's start time
// at once (for pickup latency). Times are CLOCK_MONOTONIC ms (lib/clock.mjs).
import { nowMs } from "./lib/clock.mjs";

const system = await import(`./systems/${process.argv[2]}.mjs`);
const env = JSON.parse(process.env.BENCH_ENV);
let handle = null;
let count = 0;
let firstAt = NaN;
let lastAt = NaN;
let reported = 0;
let ticker = null;

const report = () => {
  if (count === reported) return;
  reported = count;
  process.send({ type: "progress", count, firstAt, lastAt });
};

process.on("message", async (message) => {
  if (message.type === "start") {
    const each = message.report === "each";
    const onJob = (payload) => {
      const at = nowMs();
      if (count === 0) firstAt = at;
      count++;
      lastAt = at;
      if (each) process.send({ type: "job", seq: payload.seq, at });
      return payload.seq;
    };
    if (!each) ticker = setInterval(report, 20);
    handle = await system.worker(env, { concurrency: message.concurrency, onJob, mode: message.mode });
    process.send({ type: "started" });
  } else if (message.type === "stop") {
    if (ticker) clearInterval(ticker);
    report();
    await handle?.stop();
    process.send({ type: "stopped" }, () => process.exit(0));
  }
});

process.send({ type: "ready" });
