import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { allEnqueued, drain, stopTestingMode, useTestingMode } from "durable-async/testing";
import { testDatabase } from "../support/db.js";
import { importTransformed, runExample } from "../support/examples.js";

afterEach(() => stopTestingMode());

describe("examples/sms-report", { timeout: 180_000 }, () => {
  it("runs: the printed report and the CSV match the jobs table", async () => {
    const db = await testDatabase();
    const out = join(tmpdir(), `sms-${db.schema}.csv`);
    const run = await runExample("sms-report", { schema: db.schema, args: ["--out", out] });
    expect(run.code, run.stderr).toBe(0);
    const { rows } = await db.pool.query(
      `select meta->>'orgId' as org, count(*) filter (where state = 'completed')::int as sent, count(*) filter (where state in ('discarded', 'cancelled'))::int as failed, count(*)::int as total
       from ${db.q}.jobs where task_id = 'send-sms' group by 1 order by 1`,
    );
    expect(rows).toEqual([
      { org: "1", sent: 9, failed: 1, total: 10 },
      { org: "2", sent: 9, failed: 1, total: 10 },
      { org: "3", sent: 9, failed: 1, total: 10 },
    ]);
    for (const r of rows) expect(run.stdout).toContain(`${r.org},${r.sent},${r.failed},0,0,${r.total}`);
    expect(run.stdout).toContain("failed SMS in this range: 3");
    const csv = readFileSync(out, "utf8").trim().split(/\r?\n/);
    const failedOrg1 = await db.pool.query(`select id from ${db.q}.jobs where task_id = 'send-sms' and meta @> '{"orgId": 1}' and state = 'discarded'`);
    expect(csv[0]).toBe("id,state,finished_at,meta,last_error");
    expect(csv.slice(1).map((line) => line.split(",")[0])).toEqual(failedOrg1.rows.map((r) => r.id));
    expect(csv[1]).toContain("is not a mobile number");
  });

  it("queueSms tags each SMS with its org (durable-async/testing)", async () => {
    const [{ queueSms }] = await importTransformed<[typeof import("../../examples/sms-report/sms.js")]>("sms-report", ["sms.ts"]);
    useTestingMode("manual");
    await queueSms(1, "+15550001", "hi");
    await queueSms(2, "+15550010", "hi");
    expect(allEnqueued({ task: "send-sms", meta: { orgId: 1, channel: "sms" }, tags: ["sms"] })).toHaveLength(1);
    expect(await drain()).toMatchObject({ completed: 1, discarded: 1, attempts: 2 });
  });
});
