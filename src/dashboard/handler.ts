import type { IncomingMessage, ServerResponse } from "node:http";
import type pg from "pg";
import { defaultLogger, type Logger } from "../events/index.js";
import type { DurableInstance } from "../instance.js";
import { handleAction } from "./actions.js";
import { adminSource } from "./admin-source.js";
import { CSS, SCRIPT } from "./assets.js";
import { html, type Html } from "./html.js";
import { layout, type PageContext } from "./layout.js";
import { jobPage } from "./pages/job.js";
import { jobsPage } from "./pages/jobs.js";
import { overviewPage } from "./pages/overview.js";
import { tasksPage } from "./pages/tasks.js";
import { redirect, requestUrl, send, sendAsset } from "./respond.js";
import { COOKIE, Guard, accessMode, announceAccess, type AccessOptions } from "./security.js";
import { isJobId } from "../config/job-id.js";

export interface DashboardOptions extends AccessOptions {
  /** A started (or startable) durable instance; its pool and schema are used. */
  instance?: DurableInstance;
  /** Or a connection string / pg.Pool (default: DATABASE_URL, else the embedded server). */
  database?: string | pg.Pool;
  schema?: string;
  /** Where the handler is mounted, e.g. "/durable". Links are built from it. */
  basePath?: string;
  /** Shows everything, offers and accepts no actions. */
  readOnly?: boolean;
  /** Where the access warning goes (default: the instance's logger, else JSON lines on stderr). */
  logger?: Logger;
}

export type DashboardHandler = ((req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void) & {
  /** Ends the pool the handler opened itself (not the instance's or a pool you passed). */
  close(): Promise<void>;
};

function normalizeBase(base: string | undefined): string {
  const b = (base ?? "").trim().replace(/\/+$/, "");
  if (b && !/^\/[A-Za-z0-9._~\/-]*$/.test(b)) throw new Error(`Invalid dashboard basePath ${JSON.stringify(base)}: use a path like "/durable".`);
  return b;
}

/**
 * The dashboard as one request handler: `http.createServer(handler)`,
 * `app.use("/durable", handler)` in Express (pass basePath "/durable"), or in
 * Fastify `reply.hijack(); handler(req.raw, reply.raw)`. Without a token it
 * serves loopback clients only, unless `allowUnauthenticated: true`.
 */
export function createDashboardHandler(options: DashboardOptions = {}): DashboardHandler {
  return buildHandler(options, { quietLoopback: false });
}

/** startDashboard binds to loopback itself and says so: the loopback warning would only repeat it. */
export function buildHandler(options: DashboardOptions, internal: { quietLoopback: boolean }): DashboardHandler {
  const base = normalizeBase(options.basePath);
  const access = accessMode(options);
  if (!(internal.quietLoopback && access.mode === "loopback")) announceAccess(access.mode, options.logger ?? options.instance?.config.logger ?? defaultLogger());
  const guard = new Guard(access.mode, access.token);
  const admins = adminSource(options);
  const readOnly = Boolean(options.readOnly);
  const handler = ((req, res, next) => {
    serve(req, res, next).catch((error) => {
      if (res.headersSent) return res.destroy();
      send(res, 500, html`<h1>Dashboard error</h1><pre>${(error as Error).message}</pre>`);
    });
  }) as DashboardHandler;
  handler.close = admins.close;

  async function serve(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): Promise<void> {
    const url = requestUrl(req);
    let path = url.pathname;
    if (base) {
      if (path !== base && !path.startsWith(base + "/")) {
        if (next) return next();
        return send(res, 404, html`<h1>Not found</h1><p>The dashboard lives under <a href="${base}/">${base}/</a>.</p>`);
      }
      path = path.slice(base.length) || "/";
    }
    if (req.method === "GET" && path === "/assets/app.css") return sendAsset(res, "text/css", CSS);
    if (req.method === "GET" && path === "/assets/app.js") return sendAsset(res, "text/javascript", SCRIPT);
    if (path === "/favicon.ico") return void res.writeHead(204).end();
    if (req.method === "GET" && url.searchParams.has("token") && guard.mode === "token") return exchangeToken(req, res, url);
    const refused = guard.refusal(req);
    if (refused) return send(res, refused.status, html`<h1>${refused.title}</h1><p>${refused.detail}</p>`);
    const ctx: PageContext = { admin: await admins.get(), base, url: new URL(`${base}${path}${url.search}`, url.origin), csrf: guard.csrfFor(req), readOnly };
    if (path.startsWith("/actions/")) {
      if (req.method !== "POST") return send(res, 405, html`<h1>Method not allowed</h1><p>Actions are POST-only.</p>`, { allow: "POST" });
      return handleAction(req, res, ctx, guard, path.slice("/actions/".length));
    }
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, html`<h1>Method not allowed</h1>`, { allow: "GET" });
    const page = await render(ctx, path);
    if (!page) return send(res, 404, layout(ctx, "Not found", "", html`<h1>Not found</h1><p><a href="${base}/">Back to the overview</a></p>`));
    send(res, 200, page);
  }

  /** Trades a valid ?token= for an HttpOnly cookie and drops it from the address bar; a wrong one sets nothing. */
  function exchangeToken(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const given = url.searchParams.get("token");
    if (!guard.tokenValid(given)) return send(res, 401, html`<h1>Wrong token</h1><p>The token in the address is not this dashboard's token.</p>`);
    url.searchParams.delete("token");
    const secure = (req.socket as { encrypted?: boolean }).encrypted ? "; Secure" : "";
    redirect(res, url.pathname + url.search, { "set-cookie": `${COOKIE}=${encodeURIComponent(given!)}; HttpOnly; SameSite=Strict; Path=${base || "/"}${secure}` });
  }

  return handler;
}

async function render(ctx: PageContext, path: string): Promise<Html | null> {
  if (path === "/") return overviewPage(ctx);
  if (path === "/jobs") return jobsPage(ctx);
  if (path === "/tasks") return tasksPage(ctx);
  const id = /^\/jobs\/(\d+)$/.exec(path)?.[1];
  return id !== undefined && isJobId(id) ? jobPage(ctx, id) : null;
}
