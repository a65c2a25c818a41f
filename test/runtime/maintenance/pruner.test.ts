import { describe, expect, it } from "vitest";
import { eventually, quietLogger, testDatabase } from "../../support/db.js";
import { MaintenanceService } from "../../../src/runner/maintenance/service.js";
import { prunerService } from "../../../src/runner/maintenance/pruner.js";

const finishedRows = (q: string, n: number) => `
  insert into ${q}.jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, finished_at, completed_at)
  select 'completed', 'ad_hoc_worker', 'prune#t', 'h', 1, 1000, '{"json":{}}', now() - interval '8 days', now() - interval '8 days' from generate_series(1, ${n})`;

describe("the pruner service", () => {
  it("one pass deletes finished jobs past retention; a failing pass is reported, not thrown", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    await db.pool.query(finishedRows(db.q, 50));
    await prunerService({ pool: db.pool, quotedSchema: db.q, logger: quietLogger }).run();
    expect((await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`)).rows[0].n).toBe(0);
    const errors: unknown[] = [];
    const broken = new MaintenanceService(prunerService({ pool: db.pool, quotedSchema: `"no_such_schema"`, logger: quietLogger }), (_, e) => errors.push(e));
    await broken.runNow();
    expect(errors).toHaveLength(1);
  });

  it("works off more than one pass's cap in back-to-back passes, not one capped pass a minute", async () => {
    const db = await testDatabase();
    await db.start({ run: false });
    await db.pool.query(finishedRows(db.q, 25_000));
    // An hour between scheduled passes: only chained passes can finish the backlog in time.
    const service = new MaintenanceService(prunerService({ pool: db.pool, quotedSchema: db.q, logger: quietLogger, intervalMs: 3_600_000, firstDelayMs: 0 }), (_, e) => {
      throw e;
    });
    service.start(); // the 10-batch cap per pass leaves 15,000 for the passes it chains itself
    await eventually("backlog pruned", async () => (await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`)).rows[0].n === 0, 120_000);
    await service.stop();
  });
});
