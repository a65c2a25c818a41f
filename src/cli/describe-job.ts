import type { JobDetail, JobView } from "../admin/index.js";
import { progressFraction } from "../dashboard/html.js";
import { finiteDate, textOf, timeText } from "../reports/index.js";
import { bar } from "./table.js";
import { terminalSafe } from "./safe-text.js";

// How `durable jobs list` and `durable jobs show` print a job. Every field
// goes through the same safe text helpers as the dashboard, so a hostile row
// prints (marked) instead of crashing the command.

export function ago(date: unknown): string {
  const d = finiteDate(date);
  if (!d) return date === null || date === undefined ? "" : timeText(date);
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  const abs = Math.abs(s);
  const text = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.round(abs / 60)}m` : abs < 86400 ? `${Math.round(abs / 3600)}h` : `${Math.round(abs / 86400)}d`;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

export function progressText(progress: JobView["progress"], width = 10): string {
  const f = progressFraction(progress);
  if (f === null) return progress ? `(progress: ${textOf(progress, 60)})` : "";
  const p = progress as { done?: unknown; total?: unknown; message?: unknown };
  const counts = typeof p.total === "number" && typeof p.done === "number" ? ` ${p.done}/${p.total}` : "";
  return `${bar(f, width)}${counts}${p.message ? ` ${textOf(p.message, 200)}` : ""}`;
}

const shown = (v: JobDetail["captures"] | null) => (v === null ? "none" : v.kind === "encrypted" ? `[encrypted with key ${textOf(v.keyId, 80)}]` : textOf(v.value, undefined, 2));
const indent = (text: string, n = 2) => text.split("\n").map((l) => " ".repeat(n) + l).join("\n");
const at = (value: unknown) => `${timeText(value)}${finiteDate(value) ? ` (${ago(value)})` : ""}`;

export function describeJob(job: JobDetail): string {
  const lines: string[] = [];
  const put = (label: string, value: unknown) => lines.push(`${(label + ":").padEnd(12)} ${value ?? ""}`);
  put("job", `${job.id} (${job.state})`);
  put("task", `${textOf(job.task_id, 500)} [body ${job.body_hash}]`);
  put("caller", job.caller ? `${job.caller.file}:${job.caller.line}:${job.caller.column}${job.caller.fn ? ` in ${job.caller.fn}` : ""}` : "unknown");
  put("queue", `${job.queue} (priority ${job.priority})`);
  put("attempt", `${job.attempt} of ${job.max_attempts}`);
  if (job.progress !== null && job.progress !== undefined) put("progress", progressText(job.progress, 20));
  put("inserted", at(job.inserted_at));
  if (job.state === "scheduled" || job.state === "retryable") put("runs at", at(job.run_at));
  if (job.expires_at) put("deadline", `${at(job.expires_at)} (not started by then: discarded)`);
  if (job.concurrency_key !== null && job.concurrency_key !== undefined) put("concurrency", `key ${textOf(job.concurrency_key, 500)}, at most ${job.concurrency_limit} at once`);
  if (job.has_discard_hook) put("on discard", "a hook job is inserted if this job is discarded");
  if (job.attempted_at) put("attempted", at(job.attempted_at));
  if (job.state === "executing" && finiteDate(job.attempted_at)) put("running", `for ${ago(job.attempted_at).replace(/ ago$/, "")}`);
  if (job.finished_at) put("finished", at(job.finished_at));
  if (job.node_id) put("node", job.node_id);
  put("meta", textOf(job.meta, 10_000));
  if (job.tags.length) put("tags", job.tags.join(", "));
  lines.push("", "source:", indent(job.source === null ? "(not recorded)" : textOf(job.source)), "", "captures:", indent(shown(job.captures)));
  lines.push("", "result:", indent(shown(job.result)));
  lines.push(...stepLines(job));
  if (job.errorsProblem) lines.push("", `errors: ${job.errorsProblem}`);
  if (job.errors.length) {
    lines.push("", "errors:");
    for (const e of job.errors) lines.push(`  attempt ${e.attempt} at ${e.at}: ${e.name ?? "Error"}: ${e.message}`, indent(e.stack ?? "", 4));
  }
  // Every field above may hold user data: control characters print as \u001b text, never as escapes.
  return terminalSafe(lines.join("\n"), { keepLines: true }) + "\n";
}

const relative = (r: { id: string; task_id: string; state: string }) => `job ${r.id} ${textOf(r.task_id, 200)} (${r.state})`;

/** The job among durable steps: its parent, what it waits for, and its journal as a tree. */
function stepLines(job: JobDetail): string[] {
  const { parent, waitingFor, steps, truncated } = job.steps ?? { parent: null, waitingFor: [], steps: [], truncated: false };
  const lines: string[] = [];
  if (parent) lines.push("", `parent:      ${relative(parent)}`);
  if (waitingFor.length) lines.push("", `waiting for: ${waitingFor.length > 20 ? `${waitingFor.slice(0, 20).join(", ")} and ${waitingFor.length - 20} more` : waitingFor.join(", ")}`);
  if (!steps.length) return lines;
  lines.push("", "steps:");
  steps.forEach((s, i) => {
    const branch = i === steps.length - 1 && !truncated ? "└─" : "├─";
    const what = s.job ? relative(s.job) : s.kind === "sleep" ? `timer due ${at(s.wakeAt)}` : s.value ? shown(s.value).replace(/\s*\n\s*/g, " ").slice(0, 200) : "";
    const label = s.kind === "after" ? "after" : s.kind;
    lines.push(`  ${branch} ${label.padEnd(5)} ${textOf(s.key, 200)}: ${what}${s.caller ? `  [${textOf(s.caller, 300)}]` : ""}`);
  });
  if (truncated) lines.push("  └─ … (more steps; see the steps table)");
  return lines;
}
