import { afterEach, describe, expect, it } from "vitest";
import { assertEnqueued, refuteEnqueued, runJob, stopTestingMode, useTestingMode } from "durable-async/testing";
import { testDatabase } from "../support/db.js";
import { importTransformed, runExample } from "../support/examples.js";

afterEach(() => stopTestingMode());

describe("examples/csv-import", { timeout: 180_000 }, () => {
  it("runs: the import's log row and job commit together, the job runs on datasync and records progress", async () => {
    const db = await testDatabase();
    const run = await runExample("csv-import", { schema: db.schema });
    expect(run.code, run.stderr).toBe(0);
    const jobs = await db.pool.query(`select state, queue, meta, progress, result from ${db.q}.jobs order by id`);
    // The rolled-back import left no job.
    expect(jobs.rows).toHaveLength(1);
    expect(jobs.rows[0]).toMatchObject({ state: "completed", queue: "ad_hoc_datasync", meta: { orgId: 7, importId: 1 } });
    // Progress writes are throttled to one per 500 ms, so the stored value is the last one written.
    expect(jobs.rows[0].progress).toMatchObject({ total: 200, done: expect.any(Number) });
    const imports = await db.pool.query("select id, status, rows from csv_imports order by id");
    expect(imports.rows).toEqual([{ id: 1, status: "done", rows: 200 }]);
    expect((await db.pool.query("select count(*)::int as n from csv_import_rows")).rows[0].n).toBe(200);
  });

  it("startImport enqueues on datasync with the transaction's client (durable-async/testing)", async () => {
    type Import = typeof import("../../examples/csv-import/import.js");
    type Db = typeof import("../../examples/csv-import/db.js");
    const [{ startImport }, { setAppDb }] = await importTransformed<[Import, Db]>("csv-import", ["import.ts", "db.ts"]);
    const statements: string[] = [];
    const client = {
      query: async (sql: string) => (statements.push(sql.split(" ")[0]!), { rows: [{ id: 3 }] }),
      release() {},
    };
    setAppDb({ connect: async () => client, query: client.query } as any);
    useTestingMode("manual");
    await startImport(9, "a.csv", 10);
    const job = assertEnqueued({ task: "startImport", nodeType: "datasync", captures: { importId: 3, file: "a.csv", rows: 10 }, meta: { orgId: 9 } });
    expect(job.inTransaction).toBe(true);
    expect(statements).toEqual(["begin", "insert", "commit"]);
    const outcome = await runJob(job);
    expect(outcome).toEqual({ state: "completed", result: { imported: 10 } });
    expect(job.progress.at(-1)).toMatchObject({ done: 10, total: 10 });
    refuteEnqueued({ nodeType: "worker" });
  });
});
