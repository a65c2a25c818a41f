import type { DisplayValue, JobDetail } from "../../admin/index.js";
import { ago, html, json, type Html } from "../html.js";
import { actionForm, layout, progressBar, stateBadge, type PageContext } from "../layout.js";

function value(v: DisplayValue | null): Html {
  if (v === null) return html`<span class="muted">none</span>`;
  if (v.kind === "encrypted") return html`<span class="badge">encrypted</span> <span class="muted">sealed with key ${v.keyId}; not shown</span>`;
  return html`<pre>${json(v.value)}</pre>`;
}

/** State changes in time order, from the row's timestamps and its error history. */
function timeline(job: JobDetail): Array<{ at: Date; what: string; detail?: string }> {
  const events: Array<{ at: Date; what: string; detail?: string }> = [{ at: new Date(job.inserted_at), what: "inserted" }];
  if (new Date(job.run_at) > new Date(job.inserted_at) && ["scheduled", "retryable"].includes(job.state)) {
    events.push({ at: new Date(job.run_at), what: job.state === "retryable" ? "next attempt due" : "due" });
  }
  for (const e of job.errors) events.push({ at: new Date(e.at), what: `attempt ${e.attempt} failed`, detail: `${e.name ?? "Error"}: ${e.message}` });
  if (job.attempted_at) events.push({ at: new Date(job.attempted_at), what: `attempt ${job.attempt} started`, detail: job.node_id ? `on ${job.node_id}` : undefined });
  if (job.completed_at) events.push({ at: new Date(job.completed_at), what: "completed" });
  if (job.discarded_at) events.push({ at: new Date(job.discarded_at), what: "discarded" });
  if (job.cancelled_at) events.push({ at: new Date(job.cancelled_at), what: "cancelled" });
  return events.sort((a, b) => a.at.getTime() - b.at.getTime());
}

export async function jobPage(ctx: PageContext, id: string): Promise<Html | null> {
  const job = await ctx.admin.job(id);
  if (!job) return null;
  const fields = { id: job.id };
  const canRetry = ["retryable", "discarded", "cancelled", "completed"].includes(job.state);
  const canCancel = ["available", "scheduled", "retryable", "executing"].includes(job.state);
  const caller = job.caller;
  const errors = [...job.errors].reverse();

  return layout(ctx, `Job ${job.id}`, "jobs", html`<h1>Job ${job.id} ${stateBadge(job.state)}</h1>
<div id="live" data-live="on">
<p>${canRetry ? actionForm(ctx, "retry", fields, "Retry") : ""} ${canCancel ? actionForm(ctx, "cancel", fields, "Cancel", { danger: true, confirm: "Cancel this job?" }) : ""}
${job.state !== "executing" ? actionForm(ctx, "delete", fields, "Delete", { danger: true, confirm: "Delete this job?" }) : ""}</p>
<dl class="grid" id="summary">
<dt>State</dt><dd id="state">${stateBadge(job.state)}</dd>
<dt>Task</dt><dd><code>${job.task_id}</code> <span class="muted">body ${job.body_hash}</span></dd>
<dt>Called from</dt><dd id="caller">${caller ? html`<code>${caller.file}:${caller.line}:${caller.column}</code>${caller.fn ? html` in <code>${caller.fn}</code>` : ""}` : html`<span class="muted">unknown (task not recorded)</span>`}</dd>
<dt>Queue</dt><dd><a href="${ctx.base}/jobs?queue=${encodeURIComponent(job.queue)}">${job.queue}</a> · priority ${job.priority}</dd>
<dt>Attempt</dt><dd>${job.attempt} of ${job.max_attempts}</dd>
<dt>Progress</dt><dd id="progress">${job.progress ? progressBar(job.progress) : html`<span class="muted">not reported</span>`}</dd>
<dt>Meta</dt><dd><pre id="meta">${json(job.meta)}</pre></dd>
<dt>Tags</dt><dd>${job.tags.length ? job.tags.map((t) => html`<span class="badge">${t}</span> `) : html`<span class="muted">none</span>`}</dd>
<dt>Node</dt><dd>${job.node_id ?? html`<span class="muted">none</span>`}</dd>
</dl>
<h2>Source</h2>
${job.source ? html`<pre id="source">${job.source}</pre>` : html`<p class="muted">The tasks table has no source for this body hash.</p>`}
<h2>Captures</h2><div id="captures">${value(job.captures)}</div>
<h2>Result</h2><div id="result">${value(job.result)}</div>
<h2>Attempts and errors</h2>
<div id="errors">${errors.length ? errors.map((e, i) => html`<details ${i === 0 ? html`open` : ""}><summary>attempt ${e.attempt} · ${e.at} · <span class="error">${e.name ?? "Error"}: ${e.message}</span>${e.code ? html` <code>${e.code}</code>` : ""}</summary>
<pre class="stack">${e.stack ?? e.message}</pre></details>`) : html`<p class="muted">No errors recorded.</p>`}</div>
<h2>Timeline</h2>
<table id="timeline"><tbody>${timeline(job).map((e) => html`<tr><td title="${e.at.toISOString()}">${e.at.toISOString()}</td><td class="muted">${ago(e.at)}</td><td>${e.what}</td><td>${e.detail ?? ""}</td></tr>`)}</tbody></table>
</div>`);
}
