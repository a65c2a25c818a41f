import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { networkInterfaces } from "node:os";
import { connect } from "node:net";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createDashboardHandler, startDashboard } from "../../src/dashboard/index.js";
import { ConfigError } from "../../src/errors.js";
import { progressReporter } from "../../src/cli/progress.js";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/dashboard-tasks.mjs";

// The handler as users mount it: in a plain http server under a base path,
// and behind an Express-style router (mount path stripped from req.url,
// originalUrl kept, next() for everything else, body already parsed).

async function listen(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const csrfOf = (page: string) => /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1];

describe("mounting the dashboard handler", () => {
  it("serves under a base path in a plain http server and builds links from it", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "a@example.com" } });
    const handler = createDashboardHandler({ instance: d, basePath: "/durable/" });
    const app = await listen((req, res) => handler(req, res));
    try {
      const page = await (await fetch(`${app.url}/durable/jobs`)).text();
      expect(page).toContain('href="/durable/jobs/1"');
      expect(await (await fetch(`${app.url}/durable/`)).text()).toContain('action="/durable/actions/pause"');
      expect(page).toContain('src="/durable/assets/app.js"');
      expect((await fetch(`${app.url}/durable/assets/app.css`)).headers.get("content-type")).toContain("text/css");
      expect((await fetch(`${app.url}/elsewhere`)).status).toBe(404);
    } finally {
      await app.close();
    }
  });

  it("works behind an Express-style router: originalUrl, next() and a pre-parsed body", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const handler = createDashboardHandler({ instance: d, basePath: "/admin/jobs" });
    let fellThrough = 0;
    const app = await listen((req, res) => {
      const original = req.url!;
      const next = () => {
        fellThrough++;
        res.writeHead(418).end();
      };
      if (!original.startsWith("/admin/jobs")) return next();
      Object.assign(req, { originalUrl: original, url: original.slice("/admin/jobs".length) || "/" });
      if (req.method === "POST") {
        // What express.urlencoded() leaves behind.
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          (req as any).body = Object.fromEntries(new URLSearchParams(body));
          handler(req, res, next);
        });
        return;
      }
      handler(req, res, next);
    });
    try {
      const page = await (await fetch(`${app.url}/admin/jobs/`)).text();
      expect(page).toContain("<h1>Overview</h1>");
      const csrf = csrfOf(page);
      expect(csrf).toBeTruthy();
      const res = await fetch(`${app.url}/admin/jobs/actions/pause`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf!, queue: "reports", for: "2h", return: "/admin/jobs/" }),
      });
      expect(res.status).toBe(303);
      const until = (await db.pool.query(`select paused_until from ${db.q}.queues where name = 'reports'`)).rows[0].paused_until;
      expect(new Date(until).getTime()).toBeGreaterThan(Date.now() + 7_000_000);
      expect(res.headers.get("location")).toMatch(/^\/admin\/jobs\/\?notice=Queue\+reports/);
      expect((await db.pool.query(`select paused from ${db.q}.queues where name = 'reports'`)).rows[0].paused).toBe(true);
      expect((await fetch(`${app.url}/health`)).status).toBe(418);
      expect(fellThrough).toBe(1);
    } finally {
      await app.close();
    }
  });

  it("trades ?token= for an HttpOnly cookie and refuses requests without it", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const dash = await startDashboard({ instance: d, port: 0, token: "a-long-enough-token" });
    try {
      expect((await fetch(dash.url)).status).toBe(401);
      expect((await fetch(dash.url, { headers: { cookie: "durable_dashboard=wrong" } })).status).toBe(401);
      const login = await fetch(`${dash.url}jobs?token=a-long-enough-token&state=failed`, { redirect: "manual" });
      expect(login.status).toBe(303);
      expect(login.headers.get("location")).toBe("/jobs?state=failed");
      const cookie = login.headers.get("set-cookie")!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect((await fetch(`${dash.url}jobs`, { headers: { cookie: cookie.split(";")[0]! } })).status).toBe(200);
      expect((await fetch(`${dash.url}jobs`, { headers: { authorization: "Bearer a-long-enough-token" } })).status).toBe(200);
    } finally {
      await dash.close();
    }
  });

  it("refuses to bind beyond loopback without a token", async () => {
    await expect(startDashboard({ host: "0.0.0.0", port: 0, database: "postgres://unused" })).rejects.toThrow(ConfigError);
    await expect(startDashboard({ host: "0.0.0.0", port: 0, database: "postgres://unused" })).rejects.toThrow(/--token/);
  });

  it("shows encrypted captures and results as redacted", async () => {
    const db = await testDatabase();
    const d = await db.start({ encryption: { key: randomBytes(32).toString("base64") } });
    const job = await d.async(tasks.sendWelcomeEmail, { user: { id: 5, email: "secret@example.com" } });
    await d.await(job, { timeout: "10s" });
    const dash = await startDashboard({ instance: d, port: 0 });
    try {
      const page = await (await fetch(`${dash.url}jobs/${job.id}`)).text();
      expect(page).not.toContain("secret@example.com");
      expect(page).toMatch(/id="captures"><span class="badge">encrypted<\/span>/);
      expect(page).toMatch(/id="result"><span class="badge">encrypted<\/span>/);
    } finally {
      await dash.close();
    }
  });
});

describe("CLI progress bar", () => {
  it("draws on a terminal and stays silent otherwise", () => {
    let written = "";
    const tty = { isTTY: true, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream;
    const bar = progressReporter("cancelling", 200, tty);
    bar.update(200);
    bar.finish();
    expect(written).toContain("cancelling [");
    expect(written).toContain("100% 200/200");
    let piped = "";
    const pipe = { isTTY: false, write: (s: string) => ((piped += s), true) } as unknown as NodeJS.WriteStream;
    const silent = progressReporter("cancelling", 200, pipe);
    silent.update(100);
    silent.finish();
    expect(piped).toBe("");
  });
});

describe("action redirects", () => {
  it("only return to paths inside the dashboard", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const dash = await startDashboard({ instance: d, port: 0, basePath: "/ops" });
    try {
      const page = await (await fetch(`${dash.url}jobs`)).text();
      const csrf = csrfOf(page)!;
      for (const [back, expected] of [
        ["/ops/jobs?state=failed", "/ops/jobs?state=failed&notice="],
        ["//evil.example/x", "/ops/?notice="],
        ["/\\evil.example/x", "/ops/?notice="],
        ["https://evil.example/ops/", "/ops/?notice="],
        ["/elsewhere", "/ops/?notice="],
      ] as const) {
        const res = await fetch(`${dash.url}actions/resume`, {
          method: "POST",
          redirect: "manual",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ _csrf: csrf, queue: "q1", return: back }),
        });
        expect(res.status, back).toBe(303);
        expect(res.headers.get("location")!.startsWith(expected), `${back} → ${res.headers.get("location")}`).toBe(true);
      }
    } finally {
      await dash.close();
    }
  });
});

/** A non-loopback address of this machine, if it has one. */
function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === "IPv4") return a.address;
  }
  return undefined;
}

function recordingLogger() {
  const warnings: string[] = [];
  return { warnings, logger: { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) } };
}

/** GET with a Host header of our choosing (fetch does not allow setting it). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("dashboard access fails closed", () => {
  it("mounted without a token, it serves loopback clients with a loopback Host only, and says so in a warning", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.async(tasks.sendWelcomeEmail, { user: { id: 1, email: "private@example.com" } });
    for (const token of [undefined, "", process.env.DURABLE_SURELY_UNSET_TOKEN]) {
      const { warnings, logger } = recordingLogger();
      const handler = createDashboardHandler({ instance: d, token, logger });
      expect(warnings.join("\n")).toMatch(/no token set, so it serves clients on this machine only/);
      const app = await listenOn(handler, "0.0.0.0");
      try {
        const local = await getWithHost(`${app.url("127.0.0.1")}/jobs`, `127.0.0.1:${app.port}`);
        expect(local.status).toBe(200);
        expect(local.body).toContain("data-job=");
        for (const host of [`localhost:${app.port}`, `[::1]:${app.port}`, "127.0.0.1"]) expect((await getWithHost(`${app.url("127.0.0.1")}/`, host)).status, host).toBe(200);
        // DNS rebinding: a page on another site whose name now resolves to 127.0.0.1.
        for (const host of [`rebind.example:${app.port}`, "evil.example", `127.0.0.1.evil.example:${app.port}`, "localhost@evil.example"]) {
          const forged = await getWithHost(`${app.url("127.0.0.1")}/jobs`, host);
          expect(forged.status, JSON.stringify(host)).toBe(403);
          expect(forged.body).not.toContain("private@example.com");
          expect(forged.body).not.toContain("data-job=");
        }
        // No Host header at all (HTTP/1.0): refused too.
        const bare = await rawRequest(app.port, "GET /jobs HTTP/1.0\r\n\r\n");
        expect(bare).toMatch(/^HTTP\/1\.1 403/);
        const posted = await fetch(`${app.url("127.0.0.1")}/actions/pause`, { method: "POST", headers: { host: "rebind.example", "content-type": "application/x-www-form-urlencoded" }, body: "queue=q" }).catch(() => null);
        expect(posted === null || posted.status === 403).toBe(true);
        const lan = lanAddress();
        if (lan) {
          const remote = await getWithHost(`${app.url(lan)}/jobs`, `127.0.0.1:${app.port}`);
          expect(remote.status).toBe(403);
          expect(remote.body).toMatch(/serves clients on its own machine only/);
        }
      } finally {
        await app.close();
      }
    }
  });

  it("allowUnauthenticated: true serves any client, with a warning; a short token is refused", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const { warnings, logger } = recordingLogger();
    const handler = createDashboardHandler({ instance: d, allowUnauthenticated: true, logger });
    expect(warnings.join("\n")).toMatch(/allowUnauthenticated is on: anyone who reaches this handler/);
    const app = await listenOn(handler, "127.0.0.1");
    try {
      expect((await getWithHost(`${app.url("127.0.0.1")}/`, "jobs.internal.example")).status).toBe(200);
    } finally {
      await app.close();
    }
    expect(() => createDashboardHandler({ instance: d, token: "short" })).toThrow(/too short: use at least 12/);
    expect(() => createDashboardHandler({ instance: d, token: 42 as any })).toThrow(/expected a string/);
  });

  it("the ?token= exchange checks the token before setting the cookie and redirects within the dashboard only", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    for (const basePath of ["", "/ops"]) {
      const dash = await startDashboard({ instance: d, port: 0, token: "the-right-token-123", basePath });
      try {
        const root = dash.url.replace(/\/$/, "").replace(basePath, "");
        const wrong = await fetch(`${root}${basePath}/jobs?token=not-the-token`, { redirect: "manual" });
        expect(wrong.status).toBe(401);
        expect(wrong.headers.get("set-cookie")).toBeNull();
        expect(wrong.headers.get("location")).toBeNull();
        for (const path of [`${basePath}//x//evil.example`, `${basePath}/\\evil.example`, `${basePath}//evil.example/`, `${basePath}/jobs//`]) {
          const res = await fetch(`${root}${path}?token=the-right-token-123&state=failed`, { redirect: "manual" });
          const location = res.headers.get("location")!;
          expect(res.status, path).toBe(303);
          expect(location, path).toMatch(/^\/(?![\/\\])/);
          expect(new URL(location, root).origin, path).toBe(new URL(root).origin);
          expect(location).toContain("state=failed");
          expect(location).not.toContain("token=");
          expect(res.headers.get("set-cookie")).toMatch(/^durable_dashboard=the-right-token-123; HttpOnly; SameSite=Strict/);
        }
      } finally {
        await dash.close();
      }
    }
  });
});

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(text));
    let out = "";
    socket.on("data", (d) => (out += d));
    socket.on("end", () => resolve(out));
    socket.on("error", reject);
  });
}

async function listenOn(handler: (req: IncomingMessage, res: ServerResponse) => void, host: string) {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const port = (server.address() as { port: number }).port;
  return { port, url: (address: string) => `http://${address}:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
