import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DurableInstance } from "../../src/instance.js";
import { startDashboard, type DashboardServer } from "../../src/dashboard/index.js";
import { eventually, quietLogger } from "../support/db.js";
import * as tasks from "../support/dashboard-tasks.mjs";

// Real headless Chromium (Debian's `chromium`) against a dashboard on a real
// database with a running node. .ci/run installs the browser; without it the
// suite is skipped with a message rather than failing on a missing binary.
const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`dashboard browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);

const SCRIPT_PAYLOAD = "<script>window.__xss = 'script'</script>";
const ATTR_PAYLOAD = `"><img src=x onerror="window.__xss='img'">`;
const docs = join(process.cwd(), "docs");
// The committed screenshots under docs/ are refreshed on request, so a test run leaves the tree clean.
const refreshScreenshots = process.env.DURABLE_UPDATE_SCREENSHOTS === "1";
async function screenshot(page: Page, name: string): Promise<void> {
  const path = join(docs, name);
  if (refreshScreenshots || !existsSync(path)) await page.screenshot({ path, fullPage: true });
}

describe.skipIf(!haveChromium)("dashboard in a real browser", () => {
  const schema = `t_dash_browser_${process.pid}`;
  let pool: pg.Pool;
  let d: DurableInstance;
  let dashboard: DashboardServer;
  let secured: DashboardServer;
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    const url = inject("databaseUrl");
    pool = new pg.Pool({ connectionString: url, max: 2 });
    await pool.query(`drop schema if exists "${schema}" cascade`);
    d = new DurableInstance({ database: url, schema, logger: quietLogger, handleSignals: false, pollInterval: 200, nodeType: ["worker"] });
    await d.start();
    dashboard = await startDashboard({ instance: d, port: 0 });
    secured = await startDashboard({ instance: d, port: 0, token: "s3cret-token-for-tests" });
    profile = mkdtempSync(join(tmpdir(), "durable-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1360, height: 900 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
    });
    mkdirSync(docs, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await secured?.close();
    await d?.stop({ grace: 0 });
    await pool?.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool?.end();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  async function open(path: string): Promise<Page> {
    const page = await browser.newPage();
    // Any alert() would mean an injected handler ran.
    page.on("dialog", (dialog) => {
      if (dialog.type() === "confirm") return void dialog.accept();
      throw new Error(`unexpected ${dialog.type()}: ${dialog.message()}`);
    });
    await page.goto(dashboard.url.replace(/\/$/, "") + path);
    return page;
  }

  const stateOf = async (id: string) => (await pool.query(`select state from "${schema}".jobs where id = $1`, [id])).rows[0]?.state;

  it("overview shows the queues with counts, nodes and throughput", async () => {
    for (let i = 0; i < 3; i++) await d.async(tasks.sendWelcomeEmail, { user: { id: i, email: `user${i}@example.com` } }, { meta: { orgId: 7 } });
    // No node runs datasync here, so these wait and show as available.
    for (let i = 0; i < 2; i++) await d.async(tasks.sendWelcomeEmail, { user: { id: 100 + i, email: "later@example.com" } }, { nodeType: "datasync" });
    await eventually("welcome emails completed", async () => (await pool.query(`select count(*)::int n from "${schema}".jobs where state = 'completed'`)).rows[0].n >= 3);
    const page = await open("/");
    await expect.poll(() => page.locator('#queues tr[data-queue="ad_hoc_worker"]').count()).toBe(1);
    expect(await page.locator('#queues tr[data-queue="ad_hoc_datasync"] td').nth(1).innerText()).toBe("2");
    expect(await page.locator("#nodes tbody tr").first().innerText()).toContain("worker");
    expect(await page.locator("svg.chart").count()).toBe(1);
    await screenshot(page, "dashboard-overview.png");
    await page.close();
  });

  it("filtering narrows the job list", async () => {
    const failed = await d.async(tasks.chargeCard, { order: { id: 501, total: 42 } }, { maxAttempts: 1, meta: { orgId: 9 } });
    await eventually("charge discarded", async () => (await stateOf(failed.id)) === "discarded");
    const page = await open("/jobs");
    const all = await page.locator("#jobs tbody tr[data-job]").count();
    expect(all).toBeGreaterThanOrEqual(6);
    await page.selectOption('select[name="state"]', "discarded");
    await page.click('#filters button[type="submit"]');
    await page.waitForURL(/state=discarded/);
    const rows = page.locator("#jobs tbody tr[data-job]");
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain("card declined");
    await page.fill('input[name="meta"]', "orgId=7");
    await page.selectOption('select[name="state"]', "");
    await page.click('#filters button[type="submit"]');
    await page.waitForURL(/meta=orgId/);
    expect(await page.locator("#jobs tbody tr[data-job]").count()).toBe(3);
    await page.goto(dashboard.url + "jobs");
    await screenshot(page, "dashboard-jobs.png");
    await page.close();
  });

  it("updates the job list live, without a reload", async () => {
    const page = await open("/jobs?queue=ad_hoc_datasync");
    const before = await page.locator("#jobs tbody tr[data-job]").count();
    let navigations = 0;
    page.on("framenavigated", () => navigations++);
    const job = await d.async(tasks.sendWelcomeEmail, { user: { id: 321, email: "live@example.com" } }, { nodeType: "datasync" });
    await page.locator(`#jobs tr[data-job="${job.id}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator("#jobs tbody tr[data-job]").count()).toBe(before + 1);
    expect(navigations).toBe(0);
    await page.close();
  });

  it("a failed job shows its source, caller and stack trace; retry runs it and the page shows it completed", async () => {
    const job = await d.async(tasks.chargeCard, { order: { id: 777, total: 10 } }, { maxAttempts: 1 });
    await eventually("charge discarded", async () => (await stateOf(job.id)) === "discarded");
    const page = await open(`/jobs/${job.id}`);
    expect(await page.locator("#source").innerText()).toContain("payments.charge(order.id, order.total)");
    expect(await page.locator("#caller").innerText()).toContain("src/orders.ts:42:5");
    expect(await page.locator("#caller").innerText()).toContain("OrderService.charge");
    const stack = await page.locator("#errors pre.stack").first().innerText();
    expect(stack).toContain("card declined for order 777");
    expect(stack).toMatch(/at .*dashboard-tasks\.mjs:\d+/);
    await screenshot(page, "dashboard-job-failed.png");

    tasks.accepted.add(777);
    await page.click('form[action$="/actions/retry"] button');
    await page.waitForURL(/notice=/);
    expect(await page.locator(".notice").innerText()).toContain("Retried 1 job");
    // Live updates swap the region in place once the job completes.
    await page.locator("#state .s-completed").waitFor({ timeout: 20_000 });
    expect(await page.locator("#result").innerText()).toContain("receipt-777");
    await page.close();
  });

  it("pausing a queue from the page stops it, resuming starts it again", async () => {
    const page = await open("/");
    await page.click('#queues tr[data-queue="ad_hoc_worker"] form[action$="/actions/pause"] button');
    await page.waitForURL(/notice=/);
    expect(await page.locator('#queues tr[data-queue="ad_hoc_worker"]').innerText()).toContain("paused");
    // The node applies the pause when the control notification arrives.
    await eventually("the node sees the pause", () => d.runner?.producers.get("ad_hoc_worker")?.paused);
    const job = await d.async(tasks.sendWelcomeEmail, { user: { id: 900, email: "paused@example.com" } });
    // A negative: give the node well over its control-refresh latency to (wrongly) start it.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stateOf(job.id)).toBe("available");
    await page.click('#queues tr[data-queue="ad_hoc_worker"] form[action$="/actions/resume"] button');
    await page.waitForURL(/notice=.*resumed/);
    await eventually("job runs after resume", async () => (await stateOf(job.id)) === "completed");
    await page.close();
  });

  it("renders <script> and attribute-breaking payloads in meta and captures inert", async () => {
    const job = await d.async(
      tasks.sendWelcomeEmail,
      { user: { id: 1, email: SCRIPT_PAYLOAD, name: ATTR_PAYLOAD } },
      { meta: { note: SCRIPT_PAYLOAD, ref: ATTR_PAYLOAD }, tags: [ATTR_PAYLOAD], nodeType: "datasync" },
    );
    for (const path of [`/jobs/${job.id}`, `/jobs?meta=${encodeURIComponent(`ref=${ATTR_PAYLOAD}`)}`, `/jobs?task=${encodeURIComponent(ATTR_PAYLOAD)}`]) {
      const page = await open(path);
      await page.waitForLoadState("load");
      expect(await page.evaluate(() => (globalThis as any).__xss)).toBeUndefined();
      expect(await page.locator("main img").count()).toBe(0);
      expect(await page.locator("main script").count()).toBe(0);
      if (path.startsWith("/jobs/")) {
        expect(await page.locator("#meta").innerText()).toContain("<script>window.__xss");
        expect(await page.locator("#captures").innerText()).toContain(`onerror=\\"window.__xss='img'\\"`);
      }
      await page.close();
    }
  });

  it("shows progress as a bar", async () => {
    const job = await d.async(tasks.importCsv, { rows: 250 });
    await eventually("progress recorded", async () => (await pool.query(`select progress from "${schema}".jobs where id = $1`, [job.id])).rows[0]?.progress);
    const page = await open(`/jobs/${job.id}`);
    expect(await page.locator('#progress [role="progressbar"]').getAttribute("aria-valuenow")).toBe("40");
    expect(await page.locator("#progress").innerText()).toContain("100/250");
    await screenshot(page, "dashboard-job-progress.png");
    await page.goto(dashboard.url + "tasks");
    expect(await page.locator('#tasks tr[data-task="src/orders.ts#OrderService.charge#0"]').innerText()).toContain("src/orders.ts:42:5");
    await screenshot(page, "dashboard-tasks.png");
    await page.close();
    await d.runner?.cancelRunning(job.id, "test over");
  });

  it("refuses actions without the token or without the CSRF field", async () => {
    const base = secured.url.replace(/\/$/, "");
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(base + path, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body });
    // No token at all.
    expect((await post("/actions/pause", "queue=ad_hoc_worker")).status).toBe(401);
    expect((await fetch(base + "/")).status).toBe(401);
    // Token but no CSRF field, from inside the authenticated browser session.
    const page = await browser.newPage();
    await page.goto(`${base}/?token=s3cret-token-for-tests`);
    expect(await page.locator("#queues").count()).toBe(1);
    const status = await page.evaluate(async (url) => {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "queue=ad_hoc_worker", redirect: "manual" });
      return res.status;
    }, `${base}/actions/pause`);
    expect(status).toBe(403);
    // A forged CSRF value is refused too, and GET never acts.
    expect((await post("/actions/pause", "queue=ad_hoc_worker&_csrf=forged", { authorization: "Bearer s3cret-token-for-tests" })).status).toBe(403);
    expect((await fetch(`${base}/actions/pause?queue=ad_hoc_worker`, { headers: { authorization: "Bearer s3cret-token-for-tests" } })).status).toBe(405);
    const paused = await pool.query(`select paused from "${schema}".queues where name = 'ad_hoc_worker'`);
    expect(paused.rows[0]?.paused ?? false).toBe(false);
    // The real form, with its CSRF field, works.
    await page.click('#queues tr[data-queue="ad_hoc_worker"] form[action$="/actions/pause"] button');
    await page.waitForURL(/notice=/);
    expect((await pool.query(`select paused from "${schema}".queues where name = 'ad_hoc_worker'`)).rows[0].paused).toBe(true);
    await page.click('#queues tr[data-queue="ad_hoc_worker"] form[action$="/actions/resume"] button');
    await page.waitForURL(/resumed/);
    await page.close();
  });

  it("read-only mode shows no actions and refuses them", async () => {
    const ro = await startDashboard({ instance: d, port: 0, readOnly: true });
    try {
      const page = await browser.newPage();
      await page.goto(ro.url);
      expect(await page.locator("header .ro").innerText()).toBe("read-only");
      expect(await page.locator("form[method=post]").count()).toBe(0);
      const res = await fetch(ro.url + "actions/pause", { method: "POST", body: "queue=ad_hoc_worker", headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(res.status).toBe(403);
      await page.close();
    } finally {
      await ro.close();
    }
  });
});
