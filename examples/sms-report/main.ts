// An SMS report: counts and a CSV of jobs by org, status and time range,
// straight from the jobs table (durable.jobs.report / durable.jobs.csv).
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { durable } from "durable-async";
import { queueSms } from "./sms.js";

await durable.start({ nodeType: "worker" });
const since = new Date();

const jobs = [];
for (let i = 1; i <= 30; i++) {
  const orgId = (i % 3) + 1;
  jobs.push(await queueSms(orgId, `+4477009${String(i).padStart(5, "0")}`, `Reminder ${i}: your appointment is tomorrow`));
}
console.log(`${jobs.length} SMS enqueued for 3 orgs`);
await Promise.allSettled(jobs.map((job) => durable.await(job, { timeout: "30s" })));
const until = new Date();

const filter = { task: "send-sms", inserted: { from: since, to: until } };
const report = await durable.jobs.report({ by: "orgId", filter });
console.log("org  sent  failed  pending  total");
for (const r of report.sort((a, b) => Number(a.key) - Number(b.key))) {
  console.log(`${String(r.key).padEnd(5)}${String(r.sent).padEnd(6)}${String(r.failed).padEnd(8)}${String(r.pending).padEnd(9)}${r.total}`);
}
console.log(`failed SMS in this range: ${await durable.jobs.count({ ...filter, state: "failed" })}`);

// Every failed SMS of org 1 in the time range, as CSV (streamed, constant memory).
const out = process.argv.includes("--out") ? process.argv[process.argv.indexOf("--out") + 1]! : "sms-org1-failed.csv";
await pipeline(durable.jobs.csv({ ...filter, meta: { orgId: 1 }, state: "failed" }, { columns: ["id", "state", "finished_at", "meta", "last_error"] }), createWriteStream(out));
console.log(`wrote ${out}`);
console.log(await durable.jobs.reportCsv({ by: "orgId", filter }));
await durable.stop();
