import { textOf } from "../../reports/index.js";
import { html, when, type Html } from "../html.js";
import { layout, type PageContext } from "../layout.js";

export async function tasksPage(ctx: PageContext): Promise<Html> {
  const tasks = await ctx.admin.tasks();
  const rows = tasks.map((t) => html`<tr id="${t.taskId}" data-task="${t.taskId}">
<td><a href="${ctx.base}/jobs?task=${encodeURIComponent(t.taskId)}"><code>${t.taskId}</code></a><br><span class="muted">${t.kind}</span></td>
<td><code>${t.bodyHash}</code></td>
<td><code>${t.caller.file}:${t.caller.line}:${t.caller.column}</code>${t.caller.fn ? html`<br><span class="muted">in ${t.caller.fn}</span>` : ""}</td>
<td>${(t.captureNames ?? []).join(", ") || html`<span class="muted">none</span>`}</td>
<td>${t.nodeIds.length ? t.nodeIds.map((n) => html`<div><code>${n}</code></div>`) : html`<span class="muted">no live node</span>`}</td>
<td>${when(t.lastSeenAt)}</td>
<td><details><summary>source</summary><pre>${textOf(t.source)}</pre></details></td></tr>`);
  return layout(ctx, "Tasks", "tasks", html`<h1>Tasks</h1>
<p class="muted">Every task id and body hash recorded, where it is called from, and which live nodes can run it.</p>
<div id="live" data-live="on">
<table id="tasks"><thead><tr><th>Task id</th><th>Body hash</th><th>Caller</th><th>Captures</th><th>Nodes</th><th>Last seen</th><th>Source</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="7" class="muted">No tasks recorded yet.</td></tr>`}</tbody></table>
</div>`);
}
