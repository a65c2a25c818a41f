import { describe, expect, it } from "vitest";
import { startDashboard } from "../../src/dashboard/index.js";
import { describeJob } from "../../src/cli/commands/jobs.js";
import { testDatabase } from "../support/db.js";
import { insertHostile, insertHostileNeighbours } from "../support/hostile-rows.js";
import * as tasks from "../support/dashboard-tasks.mjs";

// One hostile row (written straight into the tables, as a bug, a manual
// UPDATE or an older version might leave it) must never break a page for
// everyone: every list and job page renders, with the bad field shown as
// such, never a 500. The same rows go through `durable jobs show`.

describe("the dashboard with hostile rows", () => {
  it("renders every page, showing bad fields as such, never a 500", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const good = await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } }, { meta: { orgId: 7 } });
    const ids = await insertHostile(db);
    await insertHostileNeighbours(db);
    const dash = await startDashboard({ instance: d, port: 0 });
    try {
      const get = async (path: string) => {
        const res = await fetch(dash.url.replace(/\/$/, "") + path);
        const body = await res.text();
        expect(res.status, `${path}: ${body.slice(0, 500)}`).toBe(200);
        return body;
      };
      const overview = await get("/");
      expect(overview).toContain("q-inf");
      expect(overview).toContain("n-inf");
      for (const path of ["/jobs", "/jobs?state=failed", "/jobs?state=executing", "/jobs?state=completed", "/jobs?state=scheduled", "/jobs?meta=orgId%3D7", "/tasks"]) await get(path);
      const list = await get("/jobs");
      for (const id of [good.id, ...ids]) expect(list).toContain(`data-job="${id}"`);
      expect(list.length).toBeLessThan(1_000_000); // the 2 MB meta is not copied into the list
      // The meta column shows every row's meta, cut short: the 2 MB one, arrays, strings, deep nesting.
      const withMeta = await get("/jobs?meta_column=1");
      for (const id of [good.id, ...ids]) expect(withMeta).toContain(`data-job="${id}"`);
      expect(withMeta).toContain(`{&quot;orgId&quot;:7}`);
      expect(withMeta.length).toBeLessThan(1_000_000);
      for (const id of [good.id, ...ids]) {
        const page = await get(`/jobs/${id}`);
        expect(page).toContain(`Job ${id}`);
        expect(page.length, `job ${id}`).toBeLessThan(1_000_000);
      }
      expect(await get(`/jobs/${ids[0]}`)).toMatch(/not a list/);
      expect(await get(`/jobs/${ids[5]}`)).toMatch(/infinity/);
      expect(await get(`/jobs/${ids[10]}`)).toMatch(/more characters not shown/);
      expect(await get("/tasks")).toContain("t-inf");
    } finally {
      await dash.close();
    }
  });

  it("durable jobs show describes every hostile row", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const ids = await insertHostile(db);
    const dash = await startDashboard({ instance: d, port: 0 });
    await dash.close();
    const { Admin } = await import("../../src/admin/index.js");
    const admin = new Admin(db.pool, db.schema);
    for (const id of ids) {
      const job = await admin.job(id);
      expect(job, id).not.toBeNull();
      const text = describeJob(job!);
      expect(text).toContain(`job:`);
      expect(text.length).toBeLessThan(1_000_000);
    }
    const { jobs } = await admin.list({}, { limit: 100 });
    expect(jobs.length).toBe(ids.length);
  });
});
