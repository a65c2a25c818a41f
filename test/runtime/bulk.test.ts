import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { runToEnd } from "../support/run-to-end.js";

// Node's default: an unhandled rejection ends the process with code 1.
const runChild = (args: string[]) => runToEnd(["--unhandled-rejections=throw", join(process.cwd(), "test/support/bulk-child.mjs"), ...args]);

describe("durable.bulk()", () => {
  it("never crashes the process: failed inserts and throwing callbacks are logged and emitted, and a callback may wait on its own calls", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.stop();
    await db.pool.query(`alter table ${db.q}.jobs add constraint no_datasync check (queue <> 'ad_hoc_datasync')`);
    const r = await runChild([db.url, db.schema]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.awaited).toMatch(/^rejected: .*no_datasync/);
    // One event and one log line per failed insert and call site, not one per job.
    expect(report.events).toEqual([
      { task: tasks.echo.id, caller: "test/support/tasks.mjs:1:1", error: expect.stringMatching(/no_datasync/) },
      { task: tasks.echo.id, caller: "test/support/tasks.mjs:1:1", error: expect.stringMatching(/no_datasync/) },
    ]);
    expect(report.logged.filter((l: any) => l.message === "durable: enqueue failed").map((l: any) => l.jobs)).toEqual([3, 1]);
    expect(report.logged.some((l: any) => /bulk\(\) callback threw/.test(l.message) && l.error === "changed my mind")).toBe(true);
    expect(report.returned).toBe(1);
    expect(report.awaitedInside).toBe(4);
    expect(report.many).toBe(50);
    expect(report.statements).toBe(1);
    const { rows } = await db.pool.query(`select captures->'json'->>'value' as v from ${db.q}.jobs order by id`);
    expect(rows.map((row) => row.v)).toEqual(["returned", "a", "b", "c", "d", ...Array.from({ length: 50 }, (_, i) => String(i))]);
  });
});
