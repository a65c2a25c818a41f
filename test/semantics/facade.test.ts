import { describe, expect, it } from "vitest";
import { durable } from "../../src/durable.js";
import { eventually, quietLogger, testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";

describe("the durable facade", () => {
  it("keeps module-level cron entries registered before durable.start(), and exposes queues and jobs", async () => {
    const db = await testDatabase();
    // As a module-level `durable.cron(...)` would, before the app calls start().
    (durable.cron as any)("* * * * * *", t.cronTick, {}, { name: "facade-tick" });
    await durable.start({ database: db.url, schema: db.schema, logger: quietLogger, handleSignals: false, pollInterval: 200 });
    try {
      await eventually("a tick job", async () => (await durable.jobs.count({ task: "semantics#cronTick" })) >= 1, 10_000);
      await durable.queues.pause("ad_hoc_worker");
      expect((await durable.queues.list()).find((q) => q.name === "ad_hoc_worker")?.paused).toBe(true);
    } finally {
      await durable.stop({ grace: 0 });
    }
  });
});
