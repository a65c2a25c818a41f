import { afterEach, describe, expect, it } from "vitest";
import { allEnqueued, drain, stopTestingMode, useTestingMode } from "durable-async/testing";
import { testDatabase } from "../support/db.js";
import { importTransformed, runExample } from "../support/examples.js";

afterEach(() => stopTestingMode());

describe("examples/unknown-sender", { timeout: 180_000 }, () => {
  it("runs: one reply per (sender, org) however many emails arrive", async () => {
    const db = await testDatabase();
    const run = await runExample("unknown-sender", { schema: db.schema });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.match(/already replied within 24h/g)).toHaveLength(2);
    const jobs = await db.pool.query(`select state, max_attempts, meta from ${db.q}.jobs order by id`);
    expect(jobs.rows).toEqual([
      { state: "completed", max_attempts: 1, meta: { sender: "stranger@example.com", orgId: 1 } },
      { state: "completed", max_attempts: 1, meta: { sender: "stranger@example.com", orgId: 2 } },
      { state: "completed", max_attempts: 1, meta: { sender: "spammer@example.com", orgId: 1 } },
    ]);
    const replies = await db.pool.query("select org_id, sender, subject from unknown_sender_replies order by id");
    expect(replies.rows).toHaveLength(3);
    // The three replies run at once: their rows land in any order.
    expect(replies.rows).toContainEqual({ org_id: 1, sender: "stranger@example.com", subject: "Hello?" });

    // A second run inside the window replies to nobody.
    const again = await runExample("unknown-sender", { schema: db.schema });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toContain("auto-reply enqueued");
    expect((await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`)).rows[0].n).toBe(3);
  });

  it("dedupes by meta in the user's own tests too (durable-async/testing)", async () => {
    type Inbox = typeof import("../../examples/unknown-sender/inbox.js");
    type Db = typeof import("../../examples/unknown-sender/db.js");
    const [{ onInboundEmail }, { setAppDb }] = await importTransformed<[Inbox, Db]>("unknown-sender", ["inbox.ts", "db.ts"]);
    setAppDb({ query: async () => ({ rowCount: 0, rows: [] }) } as any);
    useTestingMode("manual");
    const first = await onInboundEmail(1, "x@example.com", "a");
    const second = await onInboundEmail(1, "x@example.com", "b");
    expect(second).toMatchObject({ id: first!.id, conflict: true });
    expect(allEnqueued({ task: "onInboundEmail", meta: { sender: "x@example.com" } })).toHaveLength(1);
    expect(allEnqueued()[0]!.maxAttempts).toBe(1);
    expect(await drain()).toMatchObject({ completed: 1 });
  });
});
