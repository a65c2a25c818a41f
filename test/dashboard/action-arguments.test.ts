import { describe, expect, it } from "vitest";
import { startDashboard } from "../../src/dashboard/index.js";
import { latestVersion } from "../../src/db/migrate.js";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/dashboard-tasks.mjs";

// Action arguments the page never sends, posted by hand: each is refused with
// a 400 naming the field, and nothing changes (never a default, never a wider
// action than asked).

const csrfOf = (page: string) => /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1];

type Db = Awaited<ReturnType<typeof testDatabase>>;
type Instance = Awaited<ReturnType<Db["start"]>>;
type Post = (action: string, fields: Record<string, string>) => Promise<{ status: number; text: string }>;

async function withDashboard(fn: (post: Post, db: Db) => Promise<void>, setup: (db: Db, d: Instance) => Promise<void>) {
  const db = await testDatabase();
  const d = await db.start({ run: false });
  await setup(db, d);
  const dash = await startDashboard({ database: db.url, schema: db.schema, port: 0 });
  try {
    const csrf = csrfOf(await (await fetch(dash.url)).text())!;
    const post = async (action: string, fields: Record<string, string>) => {
      const res = await fetch(`${dash.url}actions/${action}`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf, ...fields }),
      });
      return { status: res.status, text: (await res.text()) + (res.headers.get("location") ?? "") };
    };
    await fn(post, db);
  } finally {
    await dash.close();
  }
}

describe("dashboard action arguments", () => {
  it("scale refuses a missing, blank or non-integer concurrency instead of setting 0", async () => {
    await withDashboard(async (post, db) => {
      for (const fields of [{ queue: "ad_hoc_worker" } as Record<string, string>, { queue: "ad_hoc_worker", concurrency: "" }, { queue: "ad_hoc_worker", concurrency: "  " }, { queue: "ad_hoc_worker", concurrency: "2.5" }, { queue: "ad_hoc_worker", concurrency: "1e3" }, { queue: "ad_hoc_worker", concurrency: "-1" }, { queue: "ad_hoc_worker", concurrency: "20000" }]) {
        const r = await post("scale", fields);
        expect(r.status, JSON.stringify(fields)).toBe(400);
        expect(r.text).toMatch(/concurrency: (missing|.* is not an integer from 0 to 10000)/);
      }
      expect((await db.pool.query(`select count(*)::int n from ${db.q}.queues`)).rows[0].n).toBe(0);
      expect((await post("scale", { queue: "ad_hoc_worker", concurrency: "4" })).status).toBe(303);
      expect((await db.pool.query(`select concurrency from ${db.q}.queues where name = 'ad_hoc_worker'`)).rows[0].concurrency).toBe(4);
    }, async (db, d) => {
      await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } });
    });
  });

  it("job actions refuse an invalid id instead of widening to the filter", async () => {
    await withDashboard(async (post, db) => {
      for (const id of ["1x", "", " ", "-1", "1,2", "99999999999999999999"]) {
        const r = await post("retry", { id, state: "discarded" });
        expect(r.status, `${id}: ${r.text}`).toBe(400);
        expect(r.text).toContain("is not a job id");
      }
      const { rows } = await db.pool.query(`select state from ${db.q}.jobs where state = 'discarded'`);
      expect(rows).toHaveLength(2);
    }, async (db, d) => {
      for (const id of [1, 2]) {
        const job = await d.async(tasks.sendWelcomeEmail, { user: { id, email: "a@example.com" } });
        await db.pool.query(`update ${db.q}.jobs set state = 'discarded', discarded_at = now(), finished_at = now() where id = $1`, [job.id]);
      }
    });
  });

  it("refuses a cron expression that never fires, and every write to a schema newer than the package", async () => {
    await withDashboard(async (post, db) => {
      const never = await post("schedule-retime", { name: "nightly", expression: "0 0 31 2 *" });
      expect(never.status).toBe(400);
      expect(never.text).toContain("never fires");
      await db.pool.query(`insert into ${db.q}.migrations (version, name) values ($1, 'from_the_future')`, [latestVersion() + 1]);
      for (const [action, fields] of [["pause", { queue: "ad_hoc_worker" }], ["scale", { queue: "ad_hoc_worker", concurrency: "3" }], ["cancel", { state: "available" }], ["schedule-pause", { name: "nightly" }]] as const) {
        const r = await post(action, fields);
        expect(r.status, action).toBe(400);
        expect(r.text, action).toMatch(/is at migration \d+ but this version of durable-async knows only up to/);
      }
      expect((await db.pool.query(`select count(*)::int n from ${db.q}.queues`)).rows[0].n).toBe(0);
      expect((await db.pool.query(`select count(*)::int n from ${db.q}.jobs where state = 'available'`)).rows[0].n).toBe(1);
    }, async (db, d) => {
      await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } });
    });
  });
});
