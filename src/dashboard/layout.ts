import type { Admin } from "../admin/index.js";
import { textOf } from "../reports/index.js";
import { html, progressFraction, type Html } from "./html.js";

/** What every page renderer gets for one request. */
export interface PageContext {
  admin: Admin;
  /** Mount path without trailing slash ("" at the root). */
  base: string;
  url: URL;
  csrf: string;
  readOnly: boolean;
}

export function layout(ctx: PageContext, title: string, active: string, body: Html): Html {
  const nav = [
    ["overview", "/", "Overview"],
    ["jobs", "/jobs", "Jobs"],
    ["tasks", "/tasks", "Tasks"],
  ] as const;
  const notice = ctx.url.searchParams.get("notice");
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${ctx.readOnly ? "" : html`<meta name="csrf-token" content="${ctx.csrf}">`}<title>${title} · durable</title><link rel="stylesheet" href="${ctx.base}/assets/app.css"></head>
<body>
<header><span class="brand">durable</span>
${nav.map(([key, path, label]) => html`<a href="${ctx.base}${path}" class="${key === active ? "on" : ""}">${label}</a>`)}
${ctx.readOnly ? html`<span class="ro">read-only</span>` : ""}
</header>
<main>
${notice ? html`<div class="notice" role="status">${notice}</div>` : ""}
${body}
</main>
<script src="${ctx.base}/assets/app.js"></script>
</body></html>`;
}

/** A POST form for one action, carrying the CSRF token; omitted entirely in read-only mode. */
export function actionForm(ctx: PageContext, action: string, fields: Record<string, string | undefined>, label: string, options: { danger?: boolean; confirm?: string; extra?: Html } = {}): Html {
  if (ctx.readOnly) return html``;
  const back = ctx.url.pathname + ctx.url.search;
  return html`<form class="inline" method="post" action="${ctx.base}/actions/${action}" ${options.confirm ? html`data-confirm="${options.confirm}"` : ""}>
<input type="hidden" name="_csrf" value="${ctx.csrf}"><input type="hidden" name="return" value="${back}">
${Object.entries(fields).map(([k, v]) => (v === undefined ? "" : html`<input type="hidden" name="${k}" value="${v}">`))}
<button type="submit" name="do" value="${action}" class="${options.danger ? "danger" : ""}">${label}</button>${options.extra ? html` ${options.extra}` : ""}</form>`;
}

export function stateBadge(state: string): Html {
  return html`<span class="badge s-${state}">${state}</span>`;
}

export function progressBar(progress: unknown): Html {
  const f = progressFraction(progress);
  if (f === null) return progress === null || progress === undefined ? html`` : html`<span class="badge bad-value" title="stored progress">${textOf(progress, 200)}</span>`;
  const p = progress as { done?: unknown; total?: unknown; message?: unknown };
  const pct = Math.round(f * 100);
  const detail = typeof p.total === "number" && typeof p.done === "number" ? ` (${p.done}/${p.total})` : "";
  const message = p.message === undefined || p.message === null ? "" : ` · ${textOf(p.message, 200)}`;
  return html`<span class="bar" role="progressbar" aria-valuenow="${pct}" aria-valuemin="0" aria-valuemax="100"><span style="width:${pct}%"></span></span><span class="bar-label">${pct}%${detail}${message}</span>`;
}
