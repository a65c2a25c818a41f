// One worker of the deploy test: a node of build DEPLOY_BUILD (v1 or v2) of
// the small app in test/support/deploy-app.mjs. Stops gracefully on "stop".
const dist = process.env.DURABLE_FAULT_DIST ?? new URL("../../dist/", import.meta.url).href;
const { DurableInstance } = await import(new URL("src/index.js", dist.endsWith("/") ? dist : dist + "/").href);
const { registerApp } = await import("../support/deploy-app.mjs");
registerApp();

const send = (message) => {
  try {
    process.send?.({ ...message, at: Date.now(), worker: process.env.FAULT_WORKER });
  } catch {
    /* parent gone */
  }
};
const log = (level) => (msg, fields) => send({ type: "log", level, msg, fields: fields ? JSON.parse(JSON.stringify(fields)) : undefined });

const d = new DurableInstance({
  database: process.env.FAULT_DB_URL,
  schema: process.env.FAULT_SCHEMA,
  queues: { ad_hoc_worker: 10 },
  version: process.env.DEPLOY_BUILD,
  pollInterval: 250,
  heartbeatInterval: 200,
  leaseTtl: 2_000,
  unknownTaskGrace: Number(process.env.DEPLOY_GRACE_MS ?? 3_000),
  unrunnableWarnAfter: 1_000,
  logger: { debug() {}, info: log("info"), warn: log("warn"), error: log("error") },
  handleSignals: false,
});
d.on("job:unrunnable", (e) => send({ type: "unrunnable", tasks: e.tasks }));
await d.start();
send({ type: "ready", nodeId: d.runner.nodeId, pid: process.pid });

process.on("message", async (message) => {
  if (message?.type === "stop") {
    await d.stop({ grace: 10_000 }).catch(() => undefined);
    send({ type: "stopped", request: message.request });
    process.exit(0);
  }
});
