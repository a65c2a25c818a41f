import { afterEach, describe, expect, it } from "vitest";
import { allEnqueued, assertEnqueued, drain, stopTestingMode, useTestingMode } from "durable-async/testing";
import { testDatabase } from "../support/db.js";
import { importTransformed, runExample } from "../support/examples.js";

afterEach(() => stopTestingMode());

describe("examples/cron-fanout", { timeout: 180_000 }, () => {
  it("runs: a cron tick and manual runs fan out one unique child per enabled org", async () => {
    const db = await testDatabase();
    const run = await runExample("cron-fanout", { schema: db.schema, args: ["--wait-tick"], env: { BLOODWORK_CRON: "* * * * * *" } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("a cron tick ran the fan-out");
    expect(run.stdout).toContain("polled orgs 1, 3, 4");
    const children = await db.pool.query(`select meta->>'orgId' as org, count(*)::int as n from ${db.q}.jobs where queue = 'ad_hoc_datasync' group by 1 order by 1`);
    // However many ticks and manual runs happened, each enabled org has one child in the window; org 2 has none.
    expect(children.rows).toEqual([{ org: "1", n: 1 }, { org: "3", n: 1 }, { org: "4", n: 1 }]);
    const ticks = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where task_id = 'bloodwork' and state = 'completed'`);
    expect(ticks.rows[0].n).toBeGreaterThanOrEqual(1);
    const polls = await db.pool.query("select org_id, count(*)::int as n from bloodwork_polls group by 1 order by 1");
    expect(polls.rows).toEqual([{ org_id: 1, n: 1 }, { org_id: 3, n: 1 }, { org_id: 4, n: 1 }]);
  });

  it("the fan-out enqueues unique datasync children (durable-async/testing)", async () => {
    type Bloodwork = typeof import("../../examples/cron-fanout/bloodwork.js");
    type Db = typeof import("../../examples/cron-fanout/db.js");
    useTestingMode("manual");
    const [{ pollBloodworkForAllOrgs }, { setAppDb }] = await importTransformed<[Bloodwork, Db]>("cron-fanout", ["bloodwork.ts", "db.ts"]);
    setAppDb({ query: async (sql: string) => ({ rows: sql.startsWith("select") ? [{ id: 1 }, { id: 3 }] : [] }) } as any);
    expect(await pollBloodworkForAllOrgs()).toMatchObject({ enqueued: ["1", "2"], alreadyQueued: [] });
    expect(await pollBloodworkForAllOrgs()).toMatchObject({ enqueued: [], alreadyQueued: ["1", "2"] });
    assertEnqueued({ task: "pollBloodworkForAllOrgs", nodeType: "datasync", captures: { orgId: 3 }, meta: { orgId: 3 } });
    expect(allEnqueued()).toHaveLength(2);
    expect(await drain("datasync")).toMatchObject({ completed: 2 });
  });
});
