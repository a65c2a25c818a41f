import type { IncomingMessage, ServerResponse } from "node:http";
import pg from "pg";
import { Admin } from "../admin/index.js";
import { validateQueueName } from "../config/options.js";
import { parseDuration } from "../config/duration.js";
import { resolveDatabase, schemaVersion } from "../db/index.js";
import { ConfigError } from "../errors.js";
import { validateSchemaName } from "../db/schema.js";
import type { DurableInstance } from "../instance.js";
import { CSS, SCRIPT } from "./assets.js";
import { html, type Html } from "./html.js";
import { layout, type PageContext } from "./layout.js";
import { jobPage } from "./pages/job.js";
import { filterFromParams, jobsPage } from "./pages/jobs.js";
import { overviewPage } from "./pages/overview.js";
import { tasksPage } from "./pages/tasks.js";
import { COOKIE, Guard } from "./security.js";

export interface DashboardOptions {
  /** A started (or startable) durable instance; its pool and schema are used. */
  instance?: DurableInstance;
  /** Or a connection string / pg.Pool (default: DATABASE_URL, else the embedded server). */
  database?: string | pg.Pool;
  schema?: string;
  /** Where the handler is mounted, e.g. "/durable". Links are built from it. */
  basePath?: string;
  /** Required on every request when set (bearer header, or ?token= once to set a cookie). */
  token?: string;
  /** Shows everything, offers and accepts no actions. */
  readOnly?: boolean;
}

export type DashboardHandler = ((req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void) & {
  /** Ends the pool the handler opened itself (not the instance's or a pool you passed). */
  close(): Promise<void>;
};

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  // same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on form posts.
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

function normalizeBase(base: string | undefined): string {
  const b = (base ?? "").trim().replace(/\/+$/, "");
  if (b && !/^\/[A-Za-z0-9._~\/-]*$/.test(b)) throw new Error(`Invalid dashboard basePath ${JSON.stringify(base)}: use a path like "/durable".`);
  return b;
}

/**
 * The dashboard as one request handler: `http.createServer(handler)`,
 * `app.use("/durable", handler)` in Express (pass basePath "/durable"), or in
 * Fastify `reply.hijack(); handler(req.raw, reply.raw)`.
 */
export function createDashboardHandler(options: DashboardOptions = {}): DashboardHandler {
  const base = normalizeBase(options.basePath);
  const guard = new Guard(options.token || undefined);
  const readOnly = Boolean(options.readOnly);
  let ownedPool: pg.Pool | null = null;
  let adminPromise: Promise<Admin> | null = null;
  const admin = () =>
    (adminPromise ??= (async () => {
      if (options.instance) {
        await options.instance.start();
        return new Admin(options.instance.pool, options.instance.config.schema);
      }
      const schema = validateSchemaName(options.schema ?? process.env.DURABLE_SCHEMA ?? "durable");
      let pool: pg.Pool;
      if (options.database instanceof pg.Pool) pool = options.database;
      else pool = ownedPool = (await resolveDatabase(options.database, 4)).pool;
      // The dashboard never migrates: it may run with a read-only role, and a wrong schema is a typo to report.
      if ((await schemaVersion(pool, schema)) === 0) {
        throw new ConfigError(`Schema "${schema}" has no durable tables. Run \`durable migrate --schema ${schema}\` or pass the schema your workers use.`);
      }
      return new Admin(pool, schema);
    })().catch((error) => {
      adminPromise = null;
      throw error;
    }));

  const handler = ((req, res, next) => {
    serve(req, res, next).catch((error) => {
      if (res.headersSent) return res.destroy();
      send(res, 500, html`<h1>Dashboard error</h1><pre>${(error as Error).message}</pre>`);
    });
  }) as DashboardHandler;
  handler.close = async () => {
    await ownedPool?.end();
    ownedPool = null;
  };

  async function serve(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): Promise<void> {
    // Express strips the mount path from req.url; originalUrl keeps it.
    const full = (req as { originalUrl?: string }).originalUrl ?? req.url ?? "/";
    const url = new URL(full, "http://dashboard.invalid");
    let path = url.pathname;
    if (base) {
      if (path !== base && !path.startsWith(base + "/")) {
        if (next) return next();
        return send(res, 404, html`<h1>Not found</h1><p>The dashboard lives under <a href="${base}/">${base}/</a>.</p>`);
      }
      path = path.slice(base.length);
    }
    path = path || "/";

    if (req.method === "GET" && path === "/assets/app.css") return sendAsset(res, "text/css", CSS);
    if (req.method === "GET" && path === "/assets/app.js") return sendAsset(res, "text/javascript", SCRIPT);
    if (path === "/favicon.ico") return void res.writeHead(204).end();

    const given = url.searchParams.get("token");
    if (req.method === "GET" && given !== null && guard.token) {
      // Trade the URL token for an HttpOnly cookie and drop it from the address bar.
      url.searchParams.delete("token");
      const secure = (req.socket as { encrypted?: boolean }).encrypted ? "; Secure" : "";
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        "set-cookie": `${COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=${base || "/"}${secure}`,
        location: `${base}${path}${url.search}`,
      });
      return void res.end();
    }
    if (!guard.authorized(req)) {
      return send(res, 401, html`<h1>Token required</h1><p>Open this page with <code>?token=…</code> (the token given to <code>durable dashboard --token</code>) or send <code>Authorization: Bearer …</code>.</p>`);
    }
    const ctx: PageContext = { admin: await admin(), base, url: new URL(`${base}${path}${url.search}`, "http://dashboard.invalid"), csrf: guard.csrfFor(req), readOnly };

    if (path.startsWith("/actions/")) {
      if (req.method !== "POST") return send(res, 405, html`<h1>Method not allowed</h1><p>Actions are POST-only.</p>`, { allow: "POST" });
      return action(req, res, ctx, path.slice("/actions/".length));
    }
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, html`<h1>Method not allowed</h1>`, { allow: "GET" });
    let page: Html | null = null;
    if (path === "/") page = await overviewPage(ctx);
    else if (path === "/jobs") page = await jobsPage(ctx);
    else if (path === "/tasks") page = await tasksPage(ctx);
    else if (/^\/jobs\/\d{1,19}$/.test(path)) page = await jobPage(ctx, path.slice(6));
    if (!page) return send(res, 404, layout(ctx, "Not found", "", html`<h1>Not found</h1><p><a href="${base}/">Back to the overview</a></p>`));
    send(res, 200, page);
  }

  async function action(req: IncomingMessage, res: ServerResponse, ctx: PageContext, name: string): Promise<void> {
    if (readOnly) return send(res, 403, html`<h1>Read-only</h1><p>This dashboard runs in read-only mode; actions are disabled.</p>`);
    if (!guard.sameOrigin(req)) return send(res, 403, html`<h1>Refused</h1><p>Cross-origin request.</p>`);
    const form = await readForm(req);
    if (!guard.csrfValid(req, form.get("_csrf"))) {
      return send(res, 403, html`<h1>Refused</h1><p>Missing or invalid CSRF token. Reload the page and try again.</p>`);
    }
    const a = ctx.admin;
    let notice: string;
    try {
      if (name === "pause" || name === "resume" || name === "scale") {
        const queue = validateQueueName("queue", form.get("queue"));
        const forText = form.get("for")?.trim();
        if (name === "pause") await a.pause(queue, forText ? parseDuration("for", forText) : undefined);
        else if (name === "resume") await a.resume(queue);
        else {
          const n = Number(form.get("concurrency"));
          await a.scale(queue, n);
        }
        notice = `Queue ${queue}: ${name === "scale" ? `scaled to ${form.get("concurrency")}` : name === "pause" ? `paused${forText ? ` for ${forText}` : ""}` : "resumed"}.`;
      } else if (name === "retry" || name === "cancel" || name === "delete") {
        const filter = filterFromParams(form);
        const scoped = (filter.ids?.length ?? 0) > 0 || ["state", "queue", "task", "meta", "tags", "since", "until"].some((k) => form.get(k));
        // An empty filter would mean "every job"; the page never sends one, so refuse rather than guess.
        if (!scoped) return send(res, 400, html`<h1>Refused</h1><p>Give a job id or at least one filter field.</p>`);
        const n = await a[name](filter);
        notice = `${name === "retry" ? "Retried" : name === "cancel" ? "Cancelled" : "Deleted"} ${n} job${n === 1 ? "" : "s"}.`;
        if (name === "delete" && filter.ids?.length === 1) form.set("return", `${base}/jobs`);
      } else {
        return send(res, 404, html`<h1>Unknown action</h1>`);
      }
    } catch (error) {
      return send(res, 400, html`<h1>Action failed</h1><p class="error">${(error as Error).message}</p><p><a href="${base}/">Back</a></p>`);
    }
    // Only a path inside the dashboard: "//evil.example" or "/\\evil.example" would leave the origin.
    const back = form.get("return") ?? "";
    const parsed = new URL(back, "http://dashboard.invalid");
    const inside = /^\/(?![\/\\])/.test(back) && parsed.origin === "http://dashboard.invalid" && (parsed.pathname === `${base}/` || parsed.pathname.startsWith(`${base}/`));
    const target = inside ? parsed : new URL(`${base}/`, "http://dashboard.invalid");
    target.searchParams.set("notice", notice);
    res.writeHead(303, { ...SECURITY_HEADERS, location: target.pathname + target.search });
    res.end();
  }

  return handler;
}

function send(res: ServerResponse, status: number, body: Html, headers: Record<string, string> = {}): void {
  const text = String(body).startsWith("<!doctype") ? String(body) : `<!doctype html><meta charset="utf-8"><title>durable</title>${body}`;
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", ...headers });
  res.end(text);
}

function sendAsset(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { "content-type": `${type}; charset=utf-8`, "cache-control": "public, max-age=300", "x-content-type-options": "nosniff" });
  res.end(body);
}

/** Reads an urlencoded body (64 KB cap), or takes one a framework already parsed. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const parsed = (req as { body?: unknown }).body;
  // express.json() leaves `{}` on requests it did not parse; only a body with fields counts as parsed.
  if (parsed && typeof parsed === "object" && !Buffer.isBuffer(parsed) && (Object.keys(parsed).length > 0 || req.readableEnded)) {
    return new URLSearchParams(Object.entries(parsed as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)]));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 65_536) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}
