import { afterEach, describe, expect, it } from "vitest";
import { allEnqueued, stopTestingMode, useTestingMode } from "durable-async/testing";
import { testDatabase } from "../support/db.js";
import { importTransformed, runExample } from "../support/examples.js";

afterEach(() => stopTestingMode());

describe("examples/stale-patients", { timeout: 180_000 }, () => {
  it("runs: one job per (patient, client) per 6h, and a later run upserts the same rows", async () => {
    const db = await testDatabase();
    const run = await runExample("stale-patients", { schema: db.schema, args: ["--fresh"] });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("report requested: 3 patients to recompute, 0 already done");
    expect(run.stdout).toContain("requested again: 0 to recompute, 3 already done");
    const jobs = await db.pool.query(`select state, meta->>'clientId' as client, meta->>'patientId' as patient from ${db.q}.jobs order by id`);
    expect(jobs.rows).toEqual([
      { state: "completed", client: "1", patient: "101" },
      { state: "completed", client: "1", patient: "103" },
      { state: "completed", client: "2", patient: "101" },
    ]);

    // Within the window a new run recomputes nothing; seven hours later it recomputes every pair, in place.
    const within = await runExample("stale-patients", { schema: db.schema });
    expect(within.stdout).toContain("report requested: 0 patients to recompute, 3 already done");
    await db.pool.query(`update ${db.q}.jobs set inserted_at = inserted_at - interval '7 hours'`);
    const later = await runExample("stale-patients", { schema: db.schema });
    expect(later.code, later.stderr).toBe(0);
    expect(later.stdout).toContain("report requested: 3 patients to recompute");
    const rows = await db.pool.query("select client_id, patient_id, checks from stale_patients order by 1, 2");
    expect(rows.rows).toEqual([
      { client_id: 1, patient_id: 101, checks: 2 },
      { client_id: 1, patient_id: 103, checks: 2 },
      { client_id: 2, patient_id: 101, checks: 2 },
    ]);
    expect((await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`)).rows[0].n).toBe(6);
  });

  it("the report enqueues one unique job per pair (durable-async/testing)", async () => {
    type Report = typeof import("../../examples/stale-patients/report.js");
    type Db = typeof import("../../examples/stale-patients/db.js");
    const [{ flagStalePatients }, { setAppDb }] = await importTransformed<[Report, Db]>("stale-patients", ["report.ts", "db.ts"]);
    const pairs = [{ client_id: 1, patient_id: 5 }, { client_id: 2, patient_id: 5 }];
    setAppDb({ query: async () => ({ rows: pairs }) } as any);
    useTestingMode("inline");
    expect(await flagStalePatients()).toMatchObject({ enqueued: 2, skipped: 0 });
    expect(await flagStalePatients()).toMatchObject({ enqueued: 0, skipped: 2 });
    expect(allEnqueued({ meta: { report: "stale-patients", patientId: 5 }, state: "completed" })).toHaveLength(2);
  });
});
