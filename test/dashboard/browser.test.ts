import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DurableInstance } from "../../src/instance.js";
import { createDashboardHandler, startDashboard, type DashboardServer } from "../../src/dashboard/index.js";
import { insertHostile, insertHostileNeighbours } from "../support/hostile-rows.js";
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
/** This machine's non-loopback address, if any: "another machine" for the loopback-only checks. */
const lan = Object.values(networkInterfaces()).flat().find((a) => a && !a.internal && a.family === "IPv4")?.address;
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
      // rebind.example resolves to 127.0.0.1, as a DNS rebinding attack would make it; lan.example to this machine's LAN address.
      args: [`--host-resolver-rules=MAP rebind.example 127.0.0.1, MAP lan.example ${lan ?? "127.0.0.1"}`, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
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
    // An API process (run: false) on the same schema, and a queue whose jobs have all finished.
    const api = new DurableInstance({ database: inject("databaseUrl"), schema, logger: quietLogger, handleSignals: false, run: false, nodeType: "api" });
    await api.start();
    await pool.query(`insert into "${schema}".jobs (state, queue, task_id, body_hash, max_attempts, timeout_ms, captures, completed_at, finished_at)
      values ('completed', 'nightly_reports', 'reports#nightly', 'h', 1, 1000, '{"json": {}}', now(), now())`);
    const page = await open("/");
    await expect.poll(() => page.locator('#queues tr[data-queue="ad_hoc_worker"]').count()).toBe(1);
    expect(await page.locator('#queues tr[data-queue="ad_hoc_datasync"] td').nth(1).innerText()).toBe("2");
    // By the header's position, not a fixed index: the state columns follow JOB_STATES.
    const completedColumn = (await page.locator("#queues thead th").allTextContents()).indexOf("completed");
    expect(completedColumn).toBeGreaterThan(0);
    expect(await page.locator('#queues tr[data-queue="nightly_reports"] td').nth(completedColumn).innerText()).toBe("1");
    expect(await page.locator("#nodes tbody").innerText()).toMatch(/worker\s+ad_hoc_worker×/);
    expect(await page.locator("#nodes tbody").innerText()).toMatch(/api\s+none: enqueues and awaits only \(run: false\)/);
    expect(await page.locator("#nodes tbody").innerText()).not.toMatch(/\b1 tasks\b/);
    // Queue actions are labelled; the chart has axes, time labels and a legend.
    const actions = page.locator('#queues tr[data-queue="ad_hoc_worker"] td.actions');
    expect(await actions.innerText()).toMatch(/Pause.*for.*Scale.*to/s);
    expect(await page.locator('#queues th').last().innerText()).toMatch(/actions/i);
    expect(await page.locator("svg.chart").count()).toBe(1);
    expect(await page.locator("svg.chart text.x").count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator("svg.chart text.y").first().textContent()).toBe("0");
    expect(await page.locator("figure.chart .legend").innerText()).toMatch(/completed.*failed/);
    await screenshot(page, "dashboard-overview.png");
    await api.stop();
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
    await page.check('input[name="meta_column"]');
    await page.click('#filters button[type="submit"]');
    await page.waitForURL(/meta_column=1/);
    expect(await page.locator("#jobs thead").innerText()).toMatch(/Meta/i);
    expect(await page.locator("#jobs td.meta").first().innerText()).toBe(`{"orgId":7}`);
    await page.goto(dashboard.url + "jobs?meta_column=1");
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
    expect(await page.locator("#running-for").innerText()).toMatch(/^running for \d+s$/);
    await page.goto(dashboard.url + "jobs?state=executing");
    expect(await page.locator(`#jobs tr[data-job="${job.id}"] td.running`).innerText()).toMatch(/^\d+s$/);
    await page.goto(dashboard.url + `jobs/${job.id}`);
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
  it("a page served under another name (DNS rebinding) gets no job data and cannot act", async () => {
    const port = new URL(dashboard.url).port;
    const page = await browser.newPage();
    const res = await page.goto(`http://rebind.example:${port}/jobs`);
    expect(res?.status()).toBe(403);
    expect(await page.locator("h1").innerText()).toBe("Unexpected host name");
    expect(await page.locator("#jobs").count()).toBe(0);
    // The attacker's script on that origin: same-origin requests, still refused.
    const attempts = await page.evaluate(async () => {
      const read = await fetch("/jobs");
      const act = await fetch("/actions/pause", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "queue=ad_hoc_worker" });
      return [read.status, act.status, (await read.text()).includes("data-job")];
    });
    expect(attempts).toEqual([403, 403, false]);
    await page.close();
  });

  it.skipIf(!lan)("a handler mounted without a token shows another machine nothing", async () => {
    const handler = createDashboardHandler({ instance: d, logger: quietLogger });
    const server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, "0.0.0.0", () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const page = await browser.newPage();
      const remote = await page.goto(`http://lan.example:${port}/jobs`);
      expect(remote?.status()).toBe(403);
      expect(await page.content()).not.toContain("data-job");
      const local = await page.goto(`http://127.0.0.1:${port}/jobs`);
      expect(local?.status()).toBe(200);
      await page.close();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("the ?token= exchange sets the cookie only for the right token and stays on the dashboard's origin", async () => {
    const origin = new URL(secured.url).origin;
    const context = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] }).then((b) => b.newContext());
    try {
      const page = await context.newPage();
      const wrong = await page.goto(`${origin}/?token=not-the-right-one`);
      expect(wrong?.status()).toBe(401);
      expect((await context.cookies()).find((c) => c.name === "durable_dashboard")).toBeUndefined();
      await page.goto(`${origin}//x//evil.example?token=s3cret-token-for-tests`);
      expect(new URL(page.url()).origin).toBe(origin);
      expect(new URL(page.url()).pathname).toBe("/x/evil.example");
      expect(page.url()).not.toContain("token=");
      expect((await context.cookies()).find((c) => c.name === "durable_dashboard")?.httpOnly).toBe(true);
      await page.goto(`${origin}/jobs`);
      expect(await page.locator("#jobs").count()).toBe(1);
    } finally {
      await context.browser()?.close();
    }
  });

  it("pages with hostile rows render, marking the bad fields", async () => {
    const hostileSchema = `${schema}_hostile`;
    await pool.query(`drop schema if exists "${hostileSchema}" cascade`);
    const h = new DurableInstance({ database: inject("databaseUrl"), schema: hostileSchema, logger: quietLogger, handleSignals: false, run: false });
    await h.start();
    const hdb = { pool, q: `"${hostileSchema}"` } as any;
    const ids = await insertHostile(hdb);
    await insertHostileNeighbours(hdb);
    const hostile = await startDashboard({ instance: h, port: 0 });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      for (const path of ["", "jobs", "jobs?meta_column=1", "tasks", ...ids.map((id) => `jobs/${id}`)]) {
        const res = await page.goto(hostile.url + path);
        expect(res?.status(), path).toBe(200);
        expect(await page.locator("#live").count(), path).toBe(1);
      }
      await page.goto(hostile.url + `jobs/${ids[0]}`);
      expect(await page.locator("#errors").innerText()).toContain("the errors column is not a list");
      await page.goto(hostile.url + `jobs/${ids[5]}`);
      expect(await page.locator("#summary").innerText()).toContain("infinity");
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await hostile.close();
      await h.stop({ grace: 0 });
      await pool.query(`drop schema if exists "${hostileSchema}" cascade`).catch(() => undefined);
    }
  });
});
