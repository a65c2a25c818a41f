// One worker process of the fault suite: a durable node running the fault
// tasks, reporting its node id, logs and memory to the parent over IPC.
// Env: FAULT_DB_URL (possibly through the fault proxy), FAULT_SCHEMA,
// FAULT_WORKER (a name), DURABLE_FAULT_DIST, FAULT_CONCURRENCY.
const dist = process.env.DURABLE_FAULT_DIST ?? new URL("../../dist/", import.meta.url).href;
const { DurableInstance } = await import(new URL("src/index.js", dist.endsWith("/") ? dist : dist + "/").href);
await import("../support/fault-tasks.mjs");

const send = (message) => {
  try {
    process.send?.({ ...message, at: Date.now(), worker: process.env.FAULT_WORKER });
  } catch {
    /* parent gone: nothing to report to */
  }
};
const log = (level) => (msg, fields) => send({ type: "log", level, msg, fields: fields ? JSON.parse(JSON.stringify(fields)) : undefined });
const logger = { debug() {}, info: log("info"), warn: log("warn"), error: log("error") };

process.on("unhandledRejection", (error) => {
  send({ type: "crash", error: String(error?.stack ?? error) });
  process.exit(70);
});

const d = new DurableInstance({
  database: process.env.FAULT_DB_URL,
  schema: process.env.FAULT_SCHEMA,
  queues: { ad_hoc_worker: Number(process.env.FAULT_CONCURRENCY ?? 10) },
  pollInterval: Number(process.env.FAULT_POLL_MS ?? 1000),
  logger,
  handleSignals: true,
});
d.on("job:rescue", (e) => send({ type: "rescue", count: e.jobs.length }));
await d.start();
send({ type: "ready", nodeId: d.runner.nodeId, pid: process.pid });

process.on("message", async (message) => {
  if (message?.type === "notifierPid") {
    // The notifier is internal; the suite reaches for it to drop the LISTEN connection.
    const notifier = d.notifier;
    const pid = notifier?.connected ? await Promise.race([notifier.backendPid(), new Promise((r) => setTimeout(() => r(null), 2_000))]).catch(() => null) : null;
    send({ type: "notifierPid", pid, request: message.request });
  } else if (message?.type === "memory") {
    if (message.gc && globalThis.gc) globalThis.gc();
    send({ type: "memory", memory: process.memoryUsage(), request: message.request });
  } else if (message?.type === "stop") {
    await d.stop({ grace: 2_000 }).catch(() => undefined);
    process.exit(0);
  }
});
