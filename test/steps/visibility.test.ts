import { createServer } from "node:http";
import { beforeEach, describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/steps-tasks.mjs";
import { Admin } from "../../src/admin/index.js";
import { describeJob } from "../../src/cli/commands/jobs.js";
import { createDashboardHandler } from "../../src/dashboard/index.js";

describe("durable steps: visibility", () => {
  beforeEach(() => tasks.reset());

  it("durable jobs show and the dashboard's job page show the parent, its children, inline steps and what it waits for", async () => {
    const db = await testDatabase();
    const d = await db.start({ queues: { ad_hoc_worker: 1 } });
    const job = await d.async(tasks.sequence, {});
    await d.await(job, { timeout: "20s" });
    const admin = new Admin(db.pool, db.schema);
    const parent = (await admin.job(job.id))!;
    expect(parent.steps.steps.map((s) => [s.key, s.kind, s.job?.state ?? null])).toEqual([
      ["steps#child#0", "run", "completed"],
      ["durable.step#0", "step", null],
      ["steps#child#1", "run", "completed"],
    ]);
    const text = describeJob(parent);
    expect(text).toMatch(/steps:\n {2}├─ run {3}steps#child#0: job \d+ steps#child \(completed\)/);
    expect(text).toContain('durable.step#0: { "at": "1970-01-01T00:00:00.000Z", "a": 10 }');
    const childId = parent.steps.steps[0]!.job!.id;
    expect(describeJob((await admin.job(childId))!)).toContain(`parent:      job ${job.id} steps#sequence (completed)`);

    // A parent waiting for a running child names it.
    const waiting = await d.async(tasks.awaitsBlocking, {});
    await d.queues.scale("ad_hoc_worker", 2);
    await eventually("the parent to wait", async () => (await admin.job(waiting.id))?.state === "waiting");
    const shown = describeJob((await admin.job(waiting.id))!);
    expect(shown).toMatch(/waiting for: \d+/);

    const handler = createDashboardHandler({ instance: d });
    const server = createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const page = await (await fetch(`${base}/jobs/${job.id}`)).text();
      expect(page).toContain('<table id="journal">');
      expect(page).toContain("steps#child#0");
      expect(page).toContain(`href="/jobs/${childId}"`);
      const childPage = await (await fetch(`${base}/jobs/${childId}`)).text();
      expect(childPage).toContain(`<p id="parent">Parent: <a href="/jobs/${job.id}">`);
      expect(await (await fetch(`${base}/jobs/${waiting.id}`)).text()).toContain('<p id="waiting-for">Waiting for 1 job:');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await d.jobs.cancel({ ids: [waiting.id] });
    }
  });
});
