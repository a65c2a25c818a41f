// Replying to an unknown email sender at most once per 24h: uniqueness by
// meta turns durable.async into a cache-like dedupe.
import { durable } from "durable-async";
import { createTables } from "./db.js";
import { onInboundEmail } from "./inbox.js";

await durable.start({ nodeType: "worker" });
await createTables();

const inbox: Array<[number, string, string]> = [
  [1, "stranger@example.com", "Hello?"],
  [1, "stranger@example.com", "Hello again"],
  [1, "patient@example.com", "Appointment"],
  [2, "stranger@example.com", "Different clinic"],
  [1, "stranger@example.com", "Third try"],
  [1, "spammer@example.com", "Offer"],
];
const jobs = [];
for (const [orgId, sender, subject] of inbox) {
  const job = await onInboundEmail(orgId, sender, subject);
  if (!job) console.log(`org ${orgId} <- ${sender}: known sender, no auto-reply`);
  else if (job.conflict) console.log(`org ${orgId} <- ${sender}: already replied within 24h (job ${job.id}), nothing enqueued`);
  else {
    console.log(`org ${orgId} <- ${sender}: auto-reply enqueued as job ${job.id}`);
    jobs.push(job);
  }
}
for (const reply of await durable.awaitAll(jobs, { timeout: "30s" })) console.log(reply);
await durable.stop();
