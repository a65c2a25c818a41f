import type { ScheduleInfo } from "../../cron/index.js";
import type { QueueSummary } from "../../admin/index.js";
import { html, when, type Html } from "../html.js";
import { actionForm, type PageContext } from "../layout.js";

// The overview's run-time sections: cron entries as stored (pause, resume,
// retime on every node) and queues added at run time (add, remove). The
// actions go through the same admin API as the CLI (actions.ts).

function scheduleRow(ctx: PageContext, s: ScheduleInfo): Html {
  const toggle = s.paused
    ? actionForm(ctx, "schedule-resume", { name: s.name }, "Resume")
    : actionForm(ctx, "schedule-pause", { name: s.name }, "Pause");
  const retime = actionForm(ctx, "schedule-retime", { name: s.name }, "Retime", {
    extra: html`<label>to <input name="expression" required placeholder="*/10 * * * *" aria-label="new cron expression for ${s.name}" value="${s.expression}"></label>`,
  });
  const reset = s.retimed ? actionForm(ctx, "schedule-retime", { name: s.name, expression: "" }, s.origin === "api" ? "Back to added" : "Back to code") : html``;
  // Only entries added with durable.schedules.add() can be removed; code owns the others.
  const remove = s.origin === "api" ? actionForm(ctx, "schedule-remove", { name: s.name }, "Remove", { danger: true, confirm: `Remove ${s.name} from every node?` }) : html``;
  return html`<tr data-schedule="${s.name}">
<td><code>${s.name}</code> ${s.paused ? html`<span class="badge s-paused">paused</span>` : ""}${s.origin === "api" ? html` <span class="muted">added at run time</span>` : ""}</td>
<td><code>${s.expression}</code>${s.retimed ? html` <span class="muted">(retimed; ${s.origin === "api" ? "added" : "code"}: <code>${s.declaredExpression}</code>)</span>` : ""}</td>
<td>${s.tz}</td>
<td>${s.nextRunAt ? when(s.nextRunAt) : html`<span class="muted">none</span>`}</td>
<td>${s.lastTickAt ? when(s.lastTickAt) : html`<span class="muted">never</span>`}</td>
<td class="actions">${toggle} ${retime} ${reset} ${remove}</td>
</tr>`;
}

export function schedulesSection(ctx: PageContext, schedules: ScheduleInfo[]): Html {
  return html`<h2>Schedules</h2>
<table id="schedules"><thead><tr><th>Entry</th><th>Expression</th><th>Time zone</th><th>Next run</th><th>Last tick</th><th>Actions</th></tr></thead>
<tbody>${schedules.length ? schedules.map((s) => scheduleRow(ctx, s)) : html`<tr><td colspan="6" class="muted">No cron entries: they appear when a node that declares them starts.</td></tr>`}</tbody></table>`;
}

/** Add a queue on a node type; remove one added that way (listed with its node type). */
export function runtimeQueuesSection(ctx: PageContext, queues: QueueSummary[]): Html {
  const added = queues.filter((q) => q.nodeType !== null);
  const add = actionForm(ctx, "queue-add", {}, "Add queue", {
    extra: html`<label>name <input name="queue" required aria-label="new queue name"></label> <label>on node type <input name="nodeType" required value="worker" aria-label="node type that runs it"></label> <label>concurrency <input type="number" name="concurrency" min="0" max="10000" value="10" aria-label="jobs at a time per node"></label>`,
  });
  return html`<h2>Queues added at run time</h2>
${added.length ? html`<ul id="runtime-queues">${added.map((q) => html`<li><code>${q.name}</code> on ${q.nodeType} nodes ${actionForm(ctx, "queue-remove", { queue: q.name }, "Remove", { danger: true, confirm: `Stop ${q.name} on every node?` })}</li>`)}</ul>` : html`<p class="muted">None.</p>`}
${add}`;
}
