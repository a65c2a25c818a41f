// A "stale patients" report: one job per (patient, client), unique for 6
// hours, each writing its row with an upsert.
import { durable } from "durable-async";
import { appDb, createTables } from "./db.js";
import { flagStalePatients } from "./report.js";

await durable.start({ nodeType: "worker" });
const fresh = process.argv.includes("--fresh");
if (fresh) await createTables();
else await appDb().query("select 1 from patient_visits limit 1").catch(createTables);

const first = await flagStalePatients();
console.log(`report requested: ${first.enqueued} patients to recompute, ${first.skipped} already done within 6h`);
const second = await flagStalePatients();
console.log(`requested again: ${second.enqueued} to recompute, ${second.skipped} already done within 6h`);
await Promise.all(first.jobs.map((id) => durable.await(id, { timeout: "30s" })));

const { rows } = await appDb().query("select client_id, patient_id, days_since, checks from stale_patients order by 1, 2");
for (const r of rows) console.log(`  client ${r.client_id} patient ${r.patient_id}: last seen ${r.days_since} days ago (computed ${r.checks}x)`);
await durable.stop();
