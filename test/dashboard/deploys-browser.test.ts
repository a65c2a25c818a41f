import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DurableInstance } from "../../src/instance.js";
import { startDashboard, type DashboardServer } from "../../src/dashboard/index.js";
import { quietLogger } from "../support/db.js";
import * as tasks from "../support/dashboard-tasks.mjs";

// Rolling deploys in a real browser: a job no live node can run says what it
// waits for on its page and in the list (and the list filters on it), and the
// overview lists live nodes by build with what each can run.
const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium)("dashboard: jobs waiting for a node, nodes by build", () => {
  const schema = `t_dash_deploys_${process.pid}`;
  let pool: pg.Pool;
  let d: DurableInstance;
  let dashboard: DashboardServer;
  let browser: BrowserContext;
  let profile: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const url = inject("databaseUrl");
    pool = new pg.Pool({ connectionString: url, max: 2 });
    await pool.query(`drop schema if exists "${schema}" cascade`);
    d = new DurableInstance({ database: url, schema, logger: quietLogger, handleSignals: false, pollInterval: 200, version: "build-7" });
    await d.start();
    const insert = async (task: string, hash: string) =>
      (await pool.query(`insert into "${schema}".jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures)
        values ('available', 'ad_hoc_worker', $1, $2, 3, 1000, '{"json":{}}') returning id::text`, [task, hash])).rows[0].id as string;
    ids.missing = await insert("src/billing.ts#invoice#0", "9c1d2e3f4a5b6c7d");
    ids.otherVersion = await insert(tasks.sendWelcomeEmail.id, "0123456789abcdef");
    const done = await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } });
    await d.await(done, { timeout: "10s" });
    ids.done = done.id;
    dashboard = await startDashboard({ instance: d, port: 0 });
    profile = mkdtempSync(join(tmpdir(), "durable-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await d?.stop({ grace: 0 });
    await pool?.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool?.end();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  async function open(path: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(dashboard.url.replace(/\/$/, "") + path);
    return page;
  }

  it("a job's page says which task and hash it waits for", async () => {
    const page = await open(`/jobs/${ids.missing}`);
    expect(await page.locator("#waiting-for").innerText()).toBe("waiting for a node with task src/billing.ts#invoice#0 (hash 9c1d2e3f4a5b6c7d)");
    const other = await open(`/jobs/${ids.otherVersion}`);
    expect(await other.locator("#waiting-for").innerText()).toBe(
      "waiting for a node with task src/users.ts#registerUser#0 (hash 0123456789abcdef): live nodes run other versions of it (its capture names differ, bodyHashPolicy holds it, or the id now names another call site of its file)",
    );
    const runnable = await open(`/jobs/${ids.done}`);
    expect(await runnable.locator("#waiting-for").count()).toBe(0);
  });

  it("the list marks waiting jobs, and its filter shows only them", async () => {
    const page = await open("/jobs");
    expect(await page.locator(`tr[data-job="${ids.missing}"] .waiting-for`).innerText()).toBe("waiting for a node with task src/billing.ts#invoice#0 (hash 9c1d2e3f4a5b6c7d)");
    expect(await page.locator(`tr[data-job="${ids.done}"] .waiting-for`).count()).toBe(0);
    await page.locator('input[name="waiting_for_node"]').check();
    await page.locator("#filters button[type=submit]").click();
    await page.waitForURL(/waiting_for_node=1/);
    const shown = await page.locator("#jobs tbody tr[data-job]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-job")));
    expect(shown.sort()).toEqual([ids.missing, ids.otherVersion].sort());
    expect(await page.locator("#total").innerText()).toBe("2 matching");
  });

  it("the overview lists live nodes by build with what each can run", async () => {
    const page = await open("/");
    const row = page.locator('#builds tr[data-build="build-7"]');
    expect(await row.count()).toBe(1);
    expect(await row.locator("td").nth(1).innerText()).toContain(d.runner!.nodeId);
    await row.locator("summary").click();
    expect(await row.locator("td").nth(2).innerText()).toContain(tasks.sendWelcomeEmail.id);
    expect(await row.locator("td.jobs-only").innerText()).toBe("0");
  });
});
