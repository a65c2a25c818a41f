import { JOB_STATES, STATE_GROUPS, normalizeStates, parseMetaPairs, type JobFilter } from "../../admin/index.js";
import { ago, html, type Html } from "../html.js";
import { actionForm, layout, progressBar, stateBadge, type PageContext } from "../layout.js";

const PAGE = 50;
const FILTER_KEYS = ["state", "queue", "task", "meta", "tags", "since", "until"] as const;

/** Reads the jobs filter from query or form fields; throws InvalidOptionError naming the field. */
export function filterFromParams(params: URLSearchParams): JobFilter {
  const get = (k: string) => params.get(k)?.trim() || undefined;
  const date = (k: string) => {
    const v = get(k);
    if (!v) return undefined;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new Error(`${k}: "${v}" is not a date; use 2026-01-31 or 2026-01-31T12:00.`);
    return d;
  };
  const meta = get("meta");
  return {
    state: normalizeStates(get("state")),
    queue: get("queue"),
    task: get("task"),
    meta: meta ? parseMetaPairs(meta.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean)) : undefined,
    tags: get("tags")?.split(",").map((t) => t.trim()).filter(Boolean),
    since: date("since"),
    until: date("until"),
    ids: params.getAll("id").filter((id) => /^\d{1,19}$/.test(id)),
  };
}

export function filterFields(params: URLSearchParams): Record<string, string | undefined> {
  return Object.fromEntries(FILTER_KEYS.map((k) => [k, params.get(k) || undefined]));
}

export async function jobsPage(ctx: PageContext): Promise<Html> {
  const p = ctx.url.searchParams;
  const offset = Math.max(0, Number.parseInt(p.get("offset") ?? "0", 10) || 0);
  let filter: JobFilter;
  let problem: string | null = null;
  try {
    filter = filterFromParams(p);
  } catch (error) {
    problem = (error as Error).message;
    filter = { ids: ["0"] };
  }
  const [jobs, total] = await Promise.all([ctx.admin.list(filter, { limit: PAGE, offset }), ctx.admin.count(filter)]);
  const field = (k: string) => p.get(k) ?? "";
  const pageLink = (o: number) => {
    const next = new URLSearchParams(p);
    next.set("offset", String(o));
    return `${ctx.base}/jobs?${next}`;
  };
  const hasFilter = FILTER_KEYS.some((k) => p.get(k));
  const bulk = filterFields(p);

  const rows = jobs.map((j) => html`<tr data-job="${j.id}">
<td><a href="${ctx.base}/jobs/${j.id}">${j.id}</a></td><td>${stateBadge(j.state)}</td><td>${j.queue}</td>
<td><code>${j.task_id}</code></td><td class="num">${j.attempt}/${j.max_attempts}</td><td>${progressBar(j.progress)}</td>
<td title="${new Date(j.inserted_at).toISOString()}">${ago(j.inserted_at)}</td>
<td class="error">${j.last_error ? String(j.last_error).slice(0, 140) : ""}</td></tr>`);

  return layout(ctx, "Jobs", "jobs", html`<h1>Jobs</h1>
<form class="filters" method="get" action="${ctx.base}/jobs" id="filters">
<label>State<select name="state"><option value="">any</option>
${[...JOB_STATES, ...Object.keys(STATE_GROUPS)].map((s) => html`<option value="${s}" ${field("state") === s ? html`selected` : ""}>${s}</option>`)}</select></label>
<label>Queue<input name="queue" value="${field("queue")}" size="14"></label>
<label>Task<input name="task" value="${field("task")}" size="26" placeholder="id, or prefix*"></label>
<label>Meta<input name="meta" value="${field("meta")}" size="18" placeholder="orgId=42"></label>
<label>Tags<input name="tags" value="${field("tags")}" size="12" placeholder="a,b"></label>
<label>Inserted since<input name="since" type="datetime-local" value="${field("since")}"></label>
<label>until<input name="until" type="datetime-local" value="${field("until")}"></label>
<button type="submit">Filter</button> <a href="${ctx.base}/jobs">clear</a>
</form>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ""}
<div id="live" data-live="on">
<div class="pager"><span id="total">${total} matching</span>
${offset > 0 ? html`<a href="${pageLink(Math.max(0, offset - PAGE))}">← newer</a>` : ""}
${offset + PAGE < total ? html`<a href="${pageLink(offset + PAGE)}">older →</a>` : ""}
<span class="muted">${total ? `${offset + 1}–${Math.min(offset + PAGE, total)}` : ""}</span>
${hasFilter && total > 0 ? html`<span>All ${total} matching:
${actionForm(ctx, "retry", bulk, "Retry", { confirm: `Retry every job matching this filter?` })}
${actionForm(ctx, "cancel", bulk, "Cancel", { danger: true, confirm: `Cancel every pending or running job matching this filter?` })}
${actionForm(ctx, "delete", bulk, "Delete", { danger: true, confirm: `Delete every job matching this filter? This cannot be undone.` })}</span>` : ""}
</div>
<table id="jobs"><thead><tr><th>Id</th><th>State</th><th>Queue</th><th>Task</th><th class="num">Attempt</th><th>Progress</th><th>Inserted</th><th>Last error</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="8" class="muted">No jobs match.</td></tr>`}</tbody></table>
</div>`);
}
