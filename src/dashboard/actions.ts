import type { IncomingMessage, ServerResponse } from "node:http";
import { parseDuration } from "../config/duration.js";
import { validateQueueName } from "../config/options.js";
import { neverFires } from "../admin/index.js";
import { html } from "./html.js";
import type { PageContext } from "./layout.js";
import { filterFromParams } from "./pages/jobs.js";
import { pathUrl, readForm, redirect, send } from "./respond.js";
import type { Guard } from "./security.js";

// The dashboard's POST actions: queue pause/resume/scale/add/remove, cron
// entry pause/resume/retime and job retry/cancel/delete, through the same
// admin API the CLI uses.

export async function handleAction(req: IncomingMessage, res: ServerResponse, ctx: PageContext, guard: Guard, name: string): Promise<void> {
  if (ctx.readOnly) return send(res, 403, html`<h1>Read-only</h1><p>This dashboard runs in read-only mode; actions are disabled.</p>`);
  if (!guard.sameOrigin(req)) return send(res, 403, html`<h1>Refused</h1><p>Cross-origin request.</p>`);
  const form = await readForm(req);
  if (!guard.csrfValid(req, form.get("_csrf"))) {
    return send(res, 403, html`<h1>Refused</h1><p>Missing or invalid CSRF token. Reload the page and try again.</p>`);
  }
  let notice: string | null;
  try {
    notice = name === "pause" || name === "resume" || name === "scale" ? await queueAction(ctx, name, form)
      : (await runtimeAction(ctx, name, form)) ?? (await jobAction(ctx, name, form));
  } catch (error) {
    return send(res, 400, html`<h1>Action failed</h1><p class="error">${(error as Error).message}</p><p><a href="${ctx.base}/">Back</a></p>`);
  }
  if (notice === null) return send(res, 404, html`<h1>Unknown action</h1>`);
  const target = returnTarget(form.get("return"), ctx.base);
  target.searchParams.set("notice", notice);
  redirect(res, target.pathname + target.search);
}

async function queueAction(ctx: PageContext, name: "pause" | "resume" | "scale", form: URLSearchParams): Promise<string> {
  const queue = validateQueueName("queue", form.get("queue"));
  // The page's buttons name queues it listed (no typing, so no typo); like durable.queues.*, any name is configured.
  const any = { create: true };
  if (name === "resume") {
    await ctx.admin.resume(queue, any);
    return `Queue ${queue}: resumed.`;
  }
  if (name === "scale") {
    const concurrency = concurrencyField(form.get("concurrency"), true)!;
    await ctx.admin.scale(queue, concurrency, any);
    return `Queue ${queue}: scaled to ${concurrency}.`;
  }
  const forText = form.get("for")?.trim();
  await ctx.admin.pause(queue, forText ? parseDuration("for", forText) : undefined, any);
  return `Queue ${queue}: paused${forText ? ` for ${forText}` : ""}.`;
}

/** Queues added at run time and cron entries; null when `name` is none of these. */
async function runtimeAction(ctx: PageContext, name: string, form: URLSearchParams): Promise<string | null> {
  const entry = form.get("name") ?? "";
  switch (name) {
    case "queue-add": {
      const queue = validateQueueName("queue", form.get("queue"));
      const concurrency = concurrencyField(form.get("concurrency"), false);
      await ctx.admin.addQueue(queue, form.get("nodeType") ?? "", concurrency);
      return `Queue ${queue}: added on ${form.get("nodeType")} nodes.`;
    }
    case "queue-remove": {
      const queue = validateQueueName("queue", form.get("queue"));
      await ctx.admin.removeQueue(queue);
      return `Queue ${queue}: removed.`;
    }
    case "schedule-pause":
      await ctx.admin.schedules.pause(entry);
      return `Schedule ${entry}: paused.`;
    case "schedule-resume":
      await ctx.admin.schedules.resume(entry);
      return `Schedule ${entry}: resumed.`;
    case "schedule-remove":
      await ctx.admin.schedules.remove(entry);
      return `Schedule ${entry}: removed.`;
    case "schedule-retime": {
      const expression = form.get("expression")?.trim() || null;
      if (expression !== null) {
        const current = (await ctx.admin.schedules.list()).find((s) => s.name === entry);
        if (neverFires(expression, current?.tz)) throw new Error(`expression: "${expression}" never fires (no date matches it, like February 31st). Check the day and month fields, or pause the entry.`);
      }
      const s = await ctx.admin.schedules.retime(entry, expression);
      return `Schedule ${entry}: ${s.expression}${expression === null ? " (as in code)" : ""}.`;
    }
    default:
      return null;
  }
}

async function jobAction(ctx: PageContext, name: string, form: URLSearchParams): Promise<string | null> {
  if (name !== "retry" && name !== "cancel" && name !== "delete") return null;
  const filter = filterFromParams(form);
  const scoped = (filter.ids?.length ?? 0) > 0 || ["state", "queue", "task", "meta", "tags", "since", "until"].some((k) => form.get(k));
  // An empty filter would mean "every job"; the page never sends one, so refuse rather than guess.
  if (!scoped) throw new Error("Give a job id or at least one filter field.");
  const n = await ctx.admin[name](filter);
  if (name === "delete" && filter.ids?.length === 1) form.set("return", `${ctx.base}/jobs`);
  return `${name === "retry" ? "Retried" : name === "cancel" ? "Cancelled" : "Deleted"} ${n} job${n === 1 ? "" : "s"}.`;
}

/** The form's concurrency: an integer from 0 to 10000; missing or blank is refused when required (never read as 0). */
function concurrencyField(value: string | null, required: boolean): number | undefined {
  const text = value?.trim() ?? "";
  if (text === "") {
    if (required) throw new Error("concurrency: missing; give the jobs at a time per node, an integer from 0 to 10000 (0 stops the queue on every node).");
    return undefined;
  }
  if (!/^\d{1,5}$/.test(text) || Number(text) > 10_000) throw new Error(`concurrency: ${JSON.stringify(text)} is not an integer from 0 to 10000.`);
  return Number(text);
}

/** Only a path inside the dashboard: "//evil.example" or "/\\evil.example" would leave the origin. */
function returnTarget(back: string | null, base: string): URL {
  const text = back ?? "";
  const parsed = pathUrl(text);
  const inside = /^\/(?![\/\\])/.test(text) && parsed.origin === pathUrl("/").origin && (parsed.pathname === `${base}/` || parsed.pathname.startsWith(`${base}/`));
  return inside ? parsed : pathUrl(`${base}/`);
}
