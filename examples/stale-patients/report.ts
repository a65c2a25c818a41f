import { durable } from "durable-async";
import { appDb } from "./db.js";

/** Writes one patient's row of the report; an upsert, so a re-run refreshes the row instead of duplicating it. */
export async function recordStalePatient(clientId: number, patientId: number): Promise<number> {
  const { rows } = await appDb().query<{ days: number }>(
    `insert into stale_patients (client_id, patient_id, last_visit, days_since)
     select client_id, patient_id, last_visit, current_date - last_visit from patient_visits where client_id = $1 and patient_id = $2
     on conflict (client_id, patient_id) do update
       set last_visit = excluded.last_visit, days_since = excluded.days_since, checks = stale_patients.checks + 1, updated_at = now()
     returning days_since as days`,
    [clientId, patientId],
  );
  return rows[0]?.days ?? 0;
}

/**
 * Flags every patient not seen for a year. Each (patient, client) pair is one
 * job, unique for 6 hours: however often the report is requested, a pair is
 * recomputed at most once per 6h.
 */
export async function flagStalePatients(): Promise<{ enqueued: number; skipped: number; jobs: string[] }> {
  const { rows } = await appDb().query<{ client_id: number; patient_id: number }>(
    "select client_id, patient_id from patient_visits where last_visit < current_date - 365 order by 1, 2",
  );
  let enqueued = 0;
  let skipped = 0;
  const jobs: string[] = [];
  for (const row of rows) {
    const clientId = row.client_id;
    const patientId = row.patient_id;
    const job = await durable.async(() => recordStalePatient(clientId, patientId), {
      meta: { clientId, patientId, report: "stale-patients" },
      unique: { by: ["task", "captures"], keys: ["clientId", "patientId"], period: "6h" },
    });
    jobs.push(job.id);
    if (job.conflict) skipped++;
    else enqueued++;
  }
  return { enqueued, skipped, jobs };
}
