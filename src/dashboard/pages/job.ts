import type { DisplayValue, JobDetail } from "../../admin/index.js";
import { finiteDate, textOf, timeText } from "../../reports/index.js";
import { html, json, span, when, type Html } from "../html.js";
import { actionForm, layout, progressBar, stateBadge, type PageContext } from "../layout.js";

function value(v: DisplayValue | null): Html {
  if (v === null) return html`<span class="muted">none</span>`;
  if (v.kind === "encrypted") return html`<span class="badge">encrypted</span> <span class="muted">sealed with key ${textOf(v.keyId, 80)}; not shown</span>`;
  return html`<pre>${json(v.value)}</pre>`;
}

interface Moment {
  at: unknown;
  what: string;
  detail?: string;
}

/** State changes in time order, from the row's timestamps and its error history; times not on the clock go last, marked. */
function timeline(job: JobDetail): Moment[] {
  const events: Moment[] = [{ at: job.inserted_at, what: "inserted" }];
  const runAt = finiteDate(job.run_at);
  if (["scheduled", "retryable"].includes(job.state) && (!runAt || runAt > (finiteDate(job.inserted_at) ?? runAt))) {
    events.push({ at: job.run_at, what: job.state === "retryable" ? "next attempt due" : "due" });
  }
  for (const e of job.errors) events.push({ at: e.at, what: `attempt ${e.attempt} failed`, detail: `${e.name ?? "Error"}: ${e.message.slice(0, 500)}` });
  if (job.attempted_at) events.push({ at: job.attempted_at, what: `attempt ${job.attempt} started`, detail: job.node_id ? `on ${job.node_id}` : undefined });
  if (job.completed_at) events.push({ at: job.completed_at, what: "completed" });
  if (job.discarded_at) events.push({ at: job.discarded_at, what: "discarded" });
  if (job.cancelled_at) events.push({ at: job.cancelled_at, what: "cancelled" });
  const key = (m: Moment) => finiteDate(m.at)?.getTime() ?? Number.MAX_SAFE_INTEGER;
  return events.sort((a, b) => key(a) - key(b));
}

function errorsSection(job: JobDetail): Html {
  const errors = [...job.errors].reverse();
  const problem = job.errorsProblem ? html`<p class="badge bad-value">${job.errorsProblem}</p>` : "";
  if (!errors.length) return html`${problem}${problem ? "" : html`<p class="muted">No errors recorded.</p>`}`;
  return html`${problem}${errors.map((e, i) => html`<details ${i === 0 ? html`open` : ""}><summary>attempt ${e.attempt} · ${e.at} · <span class="error">${e.name ?? "Error"}: ${e.message.slice(0, 2_000)}</span>${e.code ? html` <code>${e.code}</code>` : ""}</summary>
<pre class="stack">${e.stack ?? e.message}</pre></details>`)}`;
}

function summary(ctx: PageContext, job: JobDetail): Html {
  const caller = job.caller;
  const started = job.state === "executing" ? finiteDate(job.attempted_at) : null;
  const tags = Array.isArray(job.tags) ? job.tags : [];
  return html`<dl class="grid" id="summary">
<dt>State</dt><dd id="state">${stateBadge(job.state)}${started ? html` <span id="running-for">running for ${span(Date.now() - started.getTime())}</span>` : ""}${job.waitingFor ? html` <span id="waiting-for" class="waiting-for">${textOf(job.waitingFor.text, 1_000)}</span>` : ""}</dd>
<dt>Task</dt><dd><code>${textOf(job.task_id, 500)}</code> <span class="muted">body ${job.body_hash}</span></dd>
<dt>Called from</dt><dd id="caller">${caller ? html`<code>${caller.file}:${caller.line}:${caller.column}</code>${caller.fn ? html` in <code>${caller.fn}</code>` : ""}` : html`<span class="muted">unknown (task not recorded)</span>`}</dd>
<dt>Queue</dt><dd><a href="${ctx.base}/jobs?queue=${encodeURIComponent(job.queue)}">${job.queue}</a> · priority ${job.priority}</dd>
<dt>Attempt</dt><dd>${job.attempt} of ${job.max_attempts}</dd>
<dt>Runs at</dt><dd>${when(job.run_at)} <span class="muted">${timeText(job.run_at)}</span></dd>
${semanticsRows(job)}
<dt>Progress</dt><dd id="progress">${job.progress ? progressBar(job.progress) : html`<span class="muted">not reported</span>`}</dd>
<dt>Meta</dt><dd><pre id="meta">${json(job.meta)}</pre></dd>
<dt>Tags</dt><dd>${tags.length ? tags.map((t) => html`<span class="badge">${textOf(t, 200)}</span> `) : html`<span class="muted">none</span>`}</dd>
<dt>Node</dt><dd>${job.node_id ?? html`<span class="muted">none</span>`}</dd>
</dl>`;
}

/** Deadline, per-key concurrency and discard hook, when the job has them. */
function semanticsRows(job: JobDetail): Html {
  return html`${job.expires_at ? html`<dt>Deadline</dt><dd id="deadline">${when(job.expires_at)} <span class="muted">${timeText(job.expires_at)}; not started by then: discarded</span></dd>` : ""}
${job.concurrency_key !== null && job.concurrency_key !== undefined ? html`<dt>Concurrency</dt><dd id="concurrency">key <code>${textOf(job.concurrency_key, 500)}</code>, at most ${job.concurrency_limit} at once</dd>` : ""}
${job.has_discard_hook ? html`<dt>On discard</dt><dd id="on-discard">a hook job is inserted if this job is discarded</dd>` : ""}`;
}

const jobLink = (ctx: PageContext, r: { id: string; task_id: string; state: string }): Html =>
  html`<a href="${ctx.base}/jobs/${encodeURIComponent(r.id)}">job ${r.id}</a> <code>${textOf(r.task_id, 200)}</code> ${stateBadge(r.state)}`;

/** Durable steps: the parent, what a waiting job waits for, and the journal (children with their states, inline values, timers). */
function stepsSection(ctx: PageContext, job: JobDetail): Html {
  const tree = job.steps;
  if (!tree || (!tree.parent && !tree.steps.length && !tree.waitingFor.length)) return html``;
  return html`<h2>Steps</h2><div id="steps">
${tree.parent ? html`<p id="parent">Parent: ${jobLink(ctx, tree.parent)}</p>` : ""}
${tree.waitingFor.length ? html`<p id="waiting-for">Waiting for ${tree.waitingFor.length} job${tree.waitingFor.length === 1 ? "" : "s"}: ${tree.waitingFor.slice(0, 50).map((id) => html`<a href="${ctx.base}/jobs/${encodeURIComponent(id)}">${id}</a> `)}</p>` : ""}
${tree.steps.length ? html`<table id="journal"><thead><tr><th>Step</th><th>Kind</th><th>Outcome</th><th>Called from</th></tr></thead><tbody>${tree.steps.map((s) => html`<tr>
<td><code>${textOf(s.key, 200)}</code></td><td>${s.kind}</td>
<td>${s.job ? jobLink(ctx, s.job) : s.kind === "sleep" ? html`due ${when(s.wakeAt)}` : value(s.value)}</td>
<td class="muted">${s.caller ? textOf(s.caller, 300) : ""}</td></tr>`)}</tbody></table>${tree.truncated ? html`<p class="muted">More steps than shown.</p>` : ""}` : ""}
</div>`;
}

export async function jobPage(ctx: PageContext, id: string): Promise<Html | null> {
  const job = await ctx.admin.job(id);
  if (!job) return null;
  const fields = { id: job.id };
  const canRetry = ["retryable", "discarded", "cancelled", "completed"].includes(job.state);
  const canCancel = ["available", "scheduled", "retryable", "executing", "waiting"].includes(job.state);
  return layout(ctx, `Job ${job.id}`, "jobs", html`<h1>Job ${job.id} ${stateBadge(job.state)}</h1>
<div id="live" data-live="on">
<p>${canRetry ? actionForm(ctx, "retry", fields, "Retry") : ""} ${canCancel ? actionForm(ctx, "cancel", fields, "Cancel", { danger: true, confirm: "Cancel this job?" }) : ""}
${job.state !== "executing" ? actionForm(ctx, "delete", fields, "Delete", { danger: true, confirm: "Delete this job?" }) : ""}</p>
${summary(ctx, job)}
<h2>Source</h2>
${job.source ? html`<pre id="source">${textOf(job.source)}</pre>` : html`<p class="muted">The tasks table has no source for this body hash.</p>`}
<h2>Captures</h2><div id="captures">${value(job.captures)}</div>
<h2>Result</h2><div id="result">${value(job.result)}</div>
${stepsSection(ctx, job)}
<h2>Attempts and errors</h2>
<div id="errors">${errorsSection(job)}</div>
<h2>Timeline</h2>
<table id="timeline"><tbody>${timeline(job).map((e) => html`<tr><td>${timeText(e.at) || html`<span class="muted">no time</span>`}</td><td class="muted">${when(e.at)}</td><td>${e.what}</td><td>${e.detail ?? ""}</td></tr>`)}</tbody></table>
</div>`);
}
