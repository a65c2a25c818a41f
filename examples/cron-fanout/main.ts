// A cron entry every 5 minutes that fans out one unique child job per
// organisation with the integration enabled.
import { durable } from "durable-async";
import { createTables } from "./db.js";
import { bloodworkCron, pollBloodworkForAllOrgs } from "./bloodwork.js";

await durable.start({ nodeType: ["worker", "datasync"] });
await createTables();
console.log(`cron "${bloodworkCron.name}" registered; next tick at ${bloodworkCron.nextRun()?.toISOString()}`);

// Don't wait five minutes: run the fan-out now, twice. The second run finds
// every child already queued within its 5-minute window.
const first = await durable.run(() => pollBloodworkForAllOrgs(), { timeout: "30s" });
console.log(`fan-out now: ${first.enqueued.length} children enqueued, ${first.alreadyQueued.length} already queued`);
const second = await durable.run(() => pollBloodworkForAllOrgs(), { timeout: "30s" });
console.log(`fan-out again: ${second.enqueued.length} children enqueued, ${second.alreadyQueued.length} already queued (jobs ${second.alreadyQueued.join(", ")})`);

if (process.argv.includes("--wait-tick")) {
  // With BLOODWORK_CRON="* * * * * *" the entry ticks every second.
  for (;;) {
    const ticks = await durable.jobs.count({ task: "bloodwork", state: "completed" });
    if (ticks > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log("a cron tick ran the fan-out");
}
// Children of an earlier run (within 5 minutes) count too: their results are recorded.
const polled = await Promise.all([...first.enqueued, ...first.alreadyQueued].map((id) => durable.await<number>(id, { timeout: "30s" })));
// A cron tick may have queued some children before the first manual run, so
// the order of enqueued/already-queued varies; print the orgs sorted.
console.log(`polled orgs ${polled.sort((a, b) => a - b).join(", ")}`);
await durable.stop();
