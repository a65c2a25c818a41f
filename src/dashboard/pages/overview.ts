import { JOB_STATES } from "../../admin/index.js";
import { html, type Html } from "../html.js";
import { formatDuration } from "../../config/duration.js";
import { actionForm, layout, type PageContext } from "../layout.js";

export async function overviewPage(ctx: PageContext): Promise<Html> {
  const [queues, nodes, throughput] = await Promise.all([ctx.admin.queues(), ctx.admin.nodes(), ctx.admin.throughput()]);
  const jobsLink = (params: Record<string, string>) => `${ctx.base}/jobs?${new URLSearchParams(params)}`;
  const completed = throughput.reduce((n, b) => n + b.completed, 0);
  const failed = throughput.reduce((n, b) => n + b.failed, 0);
  const peak = Math.max(1, ...throughput.map((b) => b.completed + b.failed));

  const queueRows = queues.map((q) => html`<tr data-queue="${q.name}">
<td><a href="${jobsLink({ queue: q.name })}">${q.name}</a> ${q.paused ? html`<span class="badge s-paused">paused${q.pausedUntil ? ` until ${q.pausedUntil.toISOString()}` : ""}</span>` : ""}</td>
${JOB_STATES.map((s) => html`<td class="num">${q.counts[s] ? html`<a href="${jobsLink({ queue: q.name, state: s })}">${q.counts[s]}</a>` : html`<span class="muted">0</span>`}</td>`)}
<td class="num">${q.concurrency ?? q.nodeConcurrency}${q.concurrency !== null ? html` <span class="muted">(scaled)</span>` : ""}${q.globalConcurrency ? html`<br><span class="muted">global ${q.globalConcurrency}</span>` : ""}</td>
<td>${q.rateLimit ? `${q.rateLimit.allowed} / ${formatDuration(q.rateLimit.periodMs)}` : html`<span class="muted">none</span>`}</td>
<td>${q.paused ? actionForm(ctx, "resume", { queue: q.name }, "Resume") : actionForm(ctx, "pause", { queue: q.name }, "Pause", { extra: html`<input name="for" size="5" placeholder="for 1h" aria-label="pause ${q.name} for (optional)"> ` })}
${actionForm(ctx, "scale", { queue: q.name }, "Scale", { extra: html`<input type="number" name="concurrency" min="0" max="10000" required aria-label="concurrency for ${q.name}" style="width:70px" value="${q.concurrency ?? q.nodeConcurrency}"> ` })}</td>
</tr>`);

  const nodeRows = nodes.map((n) => html`<tr>
<td><code>${n.nodeId}</code>${n.alive ? "" : html` <span class="badge s-discarded">lease expired</span>`}</td>
<td>${n.nodeTypes.join(", ")}</td>
<td>${Object.entries(n.queues).map(([q, l]) => `${q}×${l}`).join(", ")}</td>
<td class="num">${n.heartbeatAgeS.toFixed(1)} s</td>
<td>${n.hostname} <span class="muted">pid ${n.pid}</span></td>
<td><details><summary>${n.taskIds.length} tasks</summary>${n.taskIds.map((t) => html`<div><a href="${ctx.base}/tasks#${encodeURIComponent(t)}"><code>${t}</code></a></div>`)}</details></td>
</tr>`);

  // 60 one-minute bars, completed (green) stacked under failed (red).
  const bars = throughput.map((b, i) => {
    const hc = (b.completed / peak) * 60;
    const hf = (b.failed / peak) * 60;
    return html`<g><title>${new Date(b.minute).toISOString().slice(11, 16)}: ${b.completed} completed, ${b.failed} failed</title>
<rect class="c" x="${i * 8}" y="${60 - hc}" width="6" height="${hc}"></rect><rect class="f" x="${i * 8}" y="${60 - hc - hf}" width="6" height="${hf}"></rect></g>`;
  });

  return layout(ctx, "Overview", "overview", html`<h1>Overview</h1>
<div id="live" data-live="on">
<h2>Queues</h2>
<table id="queues"><thead><tr><th>Queue</th>${JOB_STATES.map((s) => html`<th class="num">${s}</th>`)}<th class="num">Concurrency</th><th>Rate limit</th><th></th></tr></thead>
<tbody>${queueRows.length ? queueRows : html`<tr><td colspan="11" class="muted">No queues yet: enqueue a job or start a worker.</td></tr>`}</tbody></table>
<p class="muted">Finished counts cover the last 24 hours.</p>
<h2>Throughput, last hour</h2>
<p>${completed} completed, ${failed} failed</p>
<svg class="chart" width="480" height="62" viewBox="0 0 480 62" role="img" aria-label="jobs finished per minute">${bars}</svg>
<h2>Nodes</h2>
<table id="nodes"><thead><tr><th>Node</th><th>Node types</th><th>Queues</th><th class="num">Heartbeat</th><th>Host</th><th>Tasks</th></tr></thead>
<tbody>${nodeRows.length ? nodeRows : html`<tr><td colspan="6" class="muted">No nodes are running.</td></tr>`}</tbody></table>
<p class="muted">Updated ${new Date().toISOString().slice(11, 19)} UTC; refreshes every 2 s.</p>
</div>`);
}
