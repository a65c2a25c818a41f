import { JOB_STATES, type NodeSummary, type QueueSummary } from "../../admin/index.js";
import type { BuildInfo } from "../../nodes/index.js";
import { textOf } from "../../reports/index.js";
import { throughputChart } from "../chart.js";
import { html, when, type Html } from "../html.js";
import { formatDuration } from "../../config/duration.js";
import { actionForm, layout, type PageContext } from "../layout.js";
import { runtimeQueuesSection, schedulesSection } from "./schedules.js";

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function queueActions(ctx: PageContext, queue: QueueSummary): Html {
  const pause = queue.paused
    ? actionForm(ctx, "resume", { queue: queue.name }, "Resume")
    : actionForm(ctx, "pause", { queue: queue.name }, "Pause", {
        extra: html`<label>for <input name="for" placeholder="1h" aria-label="pause ${queue.name} for (optional; empty: until resumed)"></label> `,
      });
  const scale = actionForm(ctx, "scale", { queue: queue.name }, "Scale", {
    extra: html`<label>to <input type="number" name="concurrency" min="0" max="10000" required aria-label="concurrency per node for ${queue.name}" value="${queue.concurrency ?? queue.nodeConcurrency}"></label> `,
  });
  return html`<td class="actions">${pause} ${scale}</td>`;
}

function queueRow(ctx: PageContext, queue: QueueSummary, jobsLink: (p: Record<string, string>) => string): Html {
  return html`<tr data-queue="${queue.name}">
<td><a href="${jobsLink({ queue: queue.name })}">${queue.name}</a> ${queue.paused ? html`<span class="badge s-paused">paused${queue.pausedUntil ? html` until ${when(queue.pausedUntil)}` : ""}</span>` : ""}</td>
${JOB_STATES.map((s) => html`<td class="num">${queue.counts[s] ? html`<a href="${jobsLink({ queue: queue.name, state: s })}">${queue.counts[s]}</a>` : html`<span class="muted">0</span>`}</td>`)}
<td class="num">${queue.concurrency ?? queue.nodeConcurrency}${queue.concurrency !== null ? html` <span class="muted">(scaled)</span>` : ""}${queue.globalConcurrency ? html`<br><span class="muted">global ${queue.globalConcurrency}</span>` : ""}</td>
<td>${queue.rateLimit ? `${queue.rateLimit.allowed} / ${formatDuration(queue.rateLimit.periodMs)}${queue.rateLimit.by ? ` per ${queue.rateLimit.by}` : ""}` : html`<span class="muted">none</span>`}</td>
${queueActions(ctx, queue)}
</tr>`;
}

function nodeRow(ctx: PageContext, n: NodeSummary): Html {
  const queues = Object.entries(n.queues).map(([quotedSchema, limit]) => `${quotedSchema}×${textOf(limit, 20)}`).join(", ");
  const taskIds = Array.isArray(n.taskIds) ? n.taskIds : [];
  return html`<tr data-node="${n.nodeId}">
<td><code>${n.nodeId}</code>${n.alive ? "" : html` <span class="badge s-discarded">lease expired</span>`}</td>
<td>${(n.nodeTypes ?? []).join(", ")}</td>
<td>${queues || html`<span class="muted">none: enqueues and awaits only (run: false)</span>`}</td>
<td class="num">${n.heartbeatAgeS === null ? html`<span class="badge bad-value">unknown</span>` : `${n.heartbeatAgeS.toFixed(1)} s ago`}</td>
<td>${n.hostname} <span class="muted">pid ${n.pid}</span></td>
<td>${taskIds.length ? html`<details><summary>${plural(taskIds.length, "task")}</summary>${taskIds.map((t) => html`<div><a href="${ctx.base}/tasks#${encodeURIComponent(t)}"><code>${t}</code></a></div>`)}</details>` : html`<span class="muted">none</span>`}</td>
</tr>`;
}

/** Live nodes by build: what each build can run, and how many pending jobs only it can (0: it can be stopped). */
function buildsTable(ctx: PageContext, builds: BuildInfo[]): Html {
  const row = (b: BuildInfo) => html`<tr data-build="${b.build ?? ""}">
<td><code>${textOf(b.build ?? "(unnamed)", 120)}</code>${b.draining ? html` <span class="badge s-retryable">draining</span>` : ""}</td>
<td>${b.nodes.map((n) => html`<div><code>${n.nodeId}</code></div>`)}</td>
<td>${b.taskIds.length ? html`<details><summary>${plural(b.taskIds.length, "task")}</summary>${b.taskIds.map((t) => html`<div><a href="${ctx.base}/tasks#${encodeURIComponent(t)}"><code>${t}</code></a></div>`)}</details>` : html`<span class="muted">none</span>`}</td>
<td class="num jobs-only">${b.jobsOnlyItRuns}</td></tr>`;
  return html`<table id="builds"><thead><tr><th>Build</th><th>Live nodes</th><th>Can run</th><th class="num">Pending jobs only it runs</th></tr></thead>
<tbody>${builds.length ? builds.map(row) : html`<tr><td colspan="4" class="muted">No live nodes.</td></tr>`}</tbody></table>
<p class="muted">A build with 0 pending jobs only it runs can be stopped. <code>durable nodes drain &lt;build&gt;</code> sends new work to the other builds first.</p>`;
}

export async function overviewPage(ctx: PageContext): Promise<Html> {
  const [queues, nodes, throughput, builds, schedules] = await Promise.all([
    ctx.admin.queues(), ctx.admin.nodes(), ctx.admin.throughput(), ctx.admin.builds.builds(), ctx.admin.schedules.list(),
  ]);
  const jobsLink = (params: Record<string, string>) => `${ctx.base}/jobs?${new URLSearchParams(params)}`;
  const completed = throughput.reduce((n, b) => n + b.completed, 0);
  const failed = throughput.reduce((n, b) => n + b.failed, 0);
  return layout(ctx, "Overview", "overview", html`<h1>Overview</h1>
<div id="live" data-live="on">
<h2>Queues</h2>
<table id="queues"><thead><tr><th>Queue</th>${JOB_STATES.map((s) => html`<th class="num">${s}</th>`)}<th class="num">Concurrency</th><th>Rate limit</th><th>Actions</th></tr></thead>
<tbody>${queues.length ? queues.map((queue) => queueRow(ctx, queue, jobsLink)) : html`<tr><td colspan="11" class="muted">No queues yet: enqueue a job or start a worker.</td></tr>`}</tbody></table>
<p class="muted">Finished counts cover the last 24 hours; a queue whose jobs all finished stays listed meanwhile.</p>
${runtimeQueuesSection(ctx, queues)}
${schedulesSection(ctx, schedules)}
<h2>Throughput, last hour</h2>
<p>${plural(completed, "job")} completed, ${failed} failed</p>
${throughputChart(throughput)}
<h2>Builds</h2>
${buildsTable(ctx, builds)}
<h2>Nodes</h2>
<table id="nodes"><thead><tr><th>Node</th><th>Node types</th><th>Queues</th><th class="num">Heartbeat</th><th>Host</th><th>Tasks</th></tr></thead>
<tbody>${nodes.length ? nodes.map((n) => nodeRow(ctx, n)) : html`<tr><td colspan="6" class="muted">No nodes are running.</td></tr>`}</tbody></table>
<p class="muted">Updated ${new Date().toISOString().slice(11, 19)} UTC; refreshes every 2 s, less often when the page is slow to compute.</p>
</div>`);
}
