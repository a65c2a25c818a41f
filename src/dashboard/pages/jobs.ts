import { STATE_NAMES, parseDateText, parseMetaPairs, parseStates, type JobFilter, type JobView } from "../../admin/index.js";
import { isJobId } from "../../config/job-id.js";
import { finiteDate, normalizeFilter, textOf } from "../../reports/index.js";
import { html, span, when, type Html } from "../html.js";
import { actionForm, layout, progressBar, stateBadge, type PageContext } from "../layout.js";

const PAGE = 50;
const FILTER_KEYS = ["state", "queue", "task", "meta", "tags", "since", "until", "waiting_for_node"] as const;

/** Reads the jobs filter from query or form fields; throws an error naming the field. */
export function filterFromParams(params: URLSearchParams): JobFilter {
  const get = (k: string) => params.get(k)?.trim() || undefined;
  const date = (k: string) => {
    const v = get(k);
    if (!v) return undefined;
    const d = parseDateText(v);
    if (!d) throw new Error(`${k}: "${v}" is not a date; use 2026-01-31 or 2026-01-31T12:00.`);
    return d;
  };
  const filter: JobFilter = {};
  const state = get("state");
  if (state) filter.state = parseStates(state) as JobFilter["state"];
  if (get("queue")) filter.queue = get("queue");
  if (get("task")) filter.task = get("task");
  const meta = get("meta");
  if (meta) filter.meta = parseMetaPairs(meta.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean));
  const tags = get("tags")?.split(",").map((t) => t.trim()).filter(Boolean);
  if (tags?.length) filter.tags = tags;
  if (date("since")) filter.since = date("since");
  if (date("until")) filter.until = date("until");
  if (get("waiting_for_node") === "1") filter.waitingForNode = true;
  // A bad id is refused, never dropped: dropping it would widen an action on one job to the whole filter.
  const ids = params.getAll("id").map((id) => id.trim());
  for (const id of ids) {
    if (!isJobId(id)) throw new Error(`id: ${JSON.stringify(id)} is not a job id; ids are positive integers up to 9223372036854775807.`);
  }
  if (ids.length) filter.ids = ids;
  normalizeFilter(filter); // the reports' own validation, so a bad field is reported here, not as a 500
  return filter;
}

export function filterFields(params: URLSearchParams): Record<string, string | undefined> {
  return Object.fromEntries(FILTER_KEYS.map((k) => [k, params.get(k) || undefined]));
}

export async function jobsPage(ctx: PageContext): Promise<Html> {
  const p = ctx.url.searchParams;
  const after = isJobId(p.get("after")) ? p.get("after") : null;
  let filter: JobFilter;
  let problem: string | null = null;
  try {
    filter = filterFromParams(p);
  } catch (error) {
    problem = (error as Error).message;
    filter = { ids: ["0"] };
  }
  const [{ jobs, next }, total] = await Promise.all([ctx.admin.list(filter, { limit: PAGE, after }), ctx.admin.count(filter)]);
  const field = (k: string) => p.get(k) ?? "";
  const pageLink = (cursor: string | null) => {
    const link = new URLSearchParams(p);
    link.delete("notice");
    if (cursor) link.set("after", cursor);
    else link.delete("after");
    return `${ctx.base}/jobs?${link}`;
  };
  const hasFilter = FILTER_KEYS.some((k) => p.get(k));
  const bulk = filterFields(p);

  const showMeta = p.get("meta_column") === "1";
  const rows = jobs.map((j) => jobRow(ctx, j, showMeta));
  const columns = ["Id", "State", "Queue", "Task", "Attempt", "Progress", "Inserted", "Running for", ...(showMeta ? ["Meta"] : []), "Last error"];

  return layout(ctx, "Jobs", "jobs", html`<h1>Jobs</h1>
<form class="filters" method="get" action="${ctx.base}/jobs" id="filters">
<label>State<select name="state"><option value="">any</option>
${STATE_NAMES.map((s) => html`<option value="${s}" ${field("state") === s ? html`selected` : ""}>${s}</option>`)}</select></label>
<label>Queue<input name="queue" value="${field("queue")}" size="14"></label>
<label>Task<input name="task" value="${field("task")}" size="26" placeholder="id, or prefix*"></label>
<label>Meta<input name="meta" value="${field("meta")}" size="18" placeholder="orgId=42"></label>
<label>Tags<input name="tags" value="${field("tags")}" size="12" placeholder="a,b"></label>
<label>Inserted since<input name="since" type="datetime-local" value="${field("since")}"></label>
<label>until<input name="until" type="datetime-local" value="${field("until")}"></label>
<label class="check"><span>Waiting for a node</span><input type="checkbox" name="waiting_for_node" value="1" ${field("waiting_for_node") === "1" ? html`checked` : ""}></label>
<label class="check"><span>Meta column</span><input type="checkbox" name="meta_column" value="1" ${showMeta ? html`checked` : ""}></label>
<button type="submit">Filter</button> <a href="${ctx.base}/jobs">clear</a>
</form>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ""}
<div id="live" data-live="on">
<div class="pager"><span id="total">${total} matching</span>
${after ? html`<a href="${pageLink(null)}">← newest</a>` : ""}
${next ? html`<a href="${pageLink(next)}" rel="next">older →</a>` : ""}
${hasFilter && total > 0 ? html`<span>All ${total} matching:
${actionForm(ctx, "retry", bulk, "Retry", { confirm: `Retry every job matching this filter?` })}
${actionForm(ctx, "cancel", bulk, "Cancel", { danger: true, confirm: `Cancel every pending or running job matching this filter?` })}
${actionForm(ctx, "delete", bulk, "Delete", { danger: true, confirm: `Delete every job matching this filter? This cannot be undone.` })}</span>` : ""}
</div>
<table id="jobs"><thead><tr>${columns.map((c) => html`<th class="${c === "Attempt" ? "num" : ""}">${c}</th>`)}</tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="${columns.length}" class="muted">No jobs match.</td></tr>`}</tbody></table>
</div>`);
}

function jobRow(ctx: PageContext, j: JobView, showMeta: boolean): Html {
  const running = j.state === "executing" ? finiteDate(j.attemptedAt) : null;
  const meta = showMeta ? textOf(j.meta, 2_000) : "";
  return html`<tr data-job="${j.id}">
<td><a href="${ctx.base}/jobs/${j.id}">${j.id}</a></td><td>${stateBadge(j.state)}</td><td>${j.queue}</td>
<td><code>${textOf(j.task, 200)}</code>${j.waitingFor ? html`<div class="waiting-for">${textOf(j.waitingFor.text, 400)}</div>` : ""}</td><td class="num">${j.attempt}/${j.maxAttempts}</td><td>${progressBar(j.progress)}</td>
<td>${when(j.insertedAt)}</td><td class="running">${running ? span(Date.now() - running.getTime()) : ""}</td>
${showMeta ? html`<td class="meta" title="${meta.slice(0, 1_000)}">${meta.slice(0, 160)}</td>` : ""}
<td class="error">${j.lastError ? j.lastError.message.slice(0, 140) : ""}</td></tr>`;
}
