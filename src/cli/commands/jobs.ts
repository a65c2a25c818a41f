import { Command } from "commander";
import type { Admin, JobDetail, JobFilter, JobView } from "../../admin/index.js";
import { progressFraction } from "../../dashboard/html.js";
import { progressReporter } from "../progress.js";
import { bar, printTable } from "../table.js";
import { CliError, filterFrom, intArg, isScoped, jobIdArg, printJson, withAdmin, withConnection, withFilter } from "../shared.js";
import { registerExport } from "./jobs-export.js";

function ago(date: Date | null): string {
  if (!date) return "";
  const s = Math.round((Date.now() - new Date(date).getTime()) / 1000);
  const abs = Math.abs(s);
  const text = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.round(abs / 60)}m` : abs < 86400 ? `${Math.round(abs / 3600)}h` : `${Math.round(abs / 86400)}d`;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

function progressText(progress: JobView["progress"]): string {
  const f = progressFraction(progress);
  if (f === null) return "";
  return `${bar(f, 10)}${progress?.total ? ` ${progress.done}/${progress.total}` : ""}`;
}

export function register(program: Command): void {
  const jobs = program.command("jobs").description("list, inspect, retry, cancel, delete and export jobs");

  withConnection(withFilter(jobs.command("list").description("list jobs, newest first")))
    .option("--limit <n>", "rows to show", intArg(1, 1000, "a row count"), 50)
    .option("--after <id>", "the next-page cursor printed by the previous page", jobIdArg)
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      const filter = filterFrom(options);
      await withAdmin(options, async (admin) => {
        const { jobs: rows, next } = await admin.list(filter, { limit: options.limit, after: options.after });
        if (options.json) return printJson(rows);
        printTable(
          [
            { header: "id", value: (j) => j.id, align: "right" },
            { header: "state", value: (j) => j.state },
            { header: "queue", value: (j) => j.queue },
            { header: "task", value: (j) => j.task, max: 50 },
            { header: "attempt", value: (j) => `${j.attempt}/${j.maxAttempts}`, align: "right" },
            { header: "progress", value: (j) => progressText(j.progress) },
            { header: "inserted", value: (j) => ago(j.insertedAt) },
            { header: "last error", value: (j) => j.lastError?.message ?? "", max: 50 },
          ],
          rows,
          "No jobs match.",
        );
        if (next) process.stderr.write(`more: add --after ${next} for the next page\n`);
      });
    });

  withConnection(jobs.command("show").description("show one job: caller, source, captures, attempts, result, progress"))
    .argument("<id>", "job id", jobIdArg)
    .option("--json", "print JSON")
    .action(async (id: string, options) => {
      await withAdmin(options, async (admin) => {
        const job = await admin.job(id);
        if (!job) throw new CliError(`job ${id} does not exist (it may have been pruned). List jobs with \`durable jobs list\`.`);
        if (options.json) return printJson(job);
        process.stdout.write(describeJob(job));
      });
    });

  for (const [name, verb, help] of [
    ["retry", "Retried", "run failed, cancelled or completed jobs again now"],
    ["cancel", "Cancelled", "cancel pending and running jobs"],
    ["delete", "Deleted", "delete jobs that are not running"],
  ] as const) {
    withConnection(withFilter(jobs.command(name).description(`${help}: by id, or every job matching the filter`)))
      .argument("[ids...]", "job ids", (id: string, previous: string[] = []) => [...previous, jobIdArg(id)])
      .action(async (ids: string[] | undefined, options) => {
        ids ??= [];
        const filter = filterFrom(options, ids);
        if (!isScoped(filter)) {
          throw new CliError(`give job ids or a filter (--state, --queue, --task, --meta, --tag, --since, --until); \`durable jobs ${name}\` alone would touch every job.`, 2);
        }
        await withAdmin(options, async (admin) => {
          const n = await bulk(admin, name, filter);
          process.stdout.write(`${verb} ${n} job${n === 1 ? "" : "s"}.\n`);
        });
      });
  }

  registerExport(jobs);
}

async function bulk(admin: Admin, name: "retry" | "cancel" | "delete", filter: JobFilter): Promise<number> {
  // Only a terminal gets a bar; piped output gets the one-line summary alone.
  if (!process.stderr.isTTY || (filter.ids?.length ?? 0) === 1) return admin[name](filter);
  const label = name === "retry" ? "retrying" : name === "cancel" ? "cancelling" : "deleting";
  let reporter: ReturnType<typeof progressReporter> | null = null;
  try {
    return await admin[name](filter, (done, total) => {
      reporter ??= progressReporter(label, total);
      reporter.update(done);
    });
  } finally {
    (reporter as ReturnType<typeof progressReporter> | null)?.finish();
  }
}

export function describeJob(job: JobDetail): string {
  const lines: string[] = [];
  const put = (label: string, value: unknown) => lines.push(`${(label + ":").padEnd(12)} ${value ?? ""}`);
  put("job", `${job.id} (${job.state})`);
  put("task", `${job.task_id} [body ${job.body_hash}]`);
  put("caller", job.caller ? `${job.caller.file}:${job.caller.line}:${job.caller.column}${job.caller.fn ? ` in ${job.caller.fn}` : ""}` : "unknown");
  put("queue", `${job.queue} (priority ${job.priority})`);
  put("attempt", `${job.attempt} of ${job.max_attempts}`);
  const f = progressFraction(job.progress);
  if (f !== null) put("progress", `${bar(f)}${job.progress?.total ? ` ${job.progress.done}/${job.progress.total}` : ""}${job.progress?.message ? ` ${job.progress.message}` : ""}`);
  put("inserted", `${new Date(job.inserted_at).toISOString()} (${ago(job.inserted_at)})`);
  if (job.state === "scheduled" || job.state === "retryable") put("runs at", `${new Date(job.run_at).toISOString()} (${ago(job.run_at)})`);
  if (job.attempted_at) put("attempted", new Date(job.attempted_at).toISOString());
  if (job.finished_at) put("finished", new Date(job.finished_at).toISOString());
  if (job.node_id) put("node", job.node_id);
  put("meta", JSON.stringify(job.meta));
  if (job.tags.length) put("tags", job.tags.join(", "));
  const shown = (v: JobDetail["captures"] | null) => (v === null ? "none" : v.kind === "encrypted" ? `[encrypted with key ${v.keyId}]` : JSON.stringify(v.value, null, 2));
  lines.push("", "source:", indent(job.source ?? "(not recorded)"), "", "captures:", indent(shown(job.captures)));
  lines.push("", "result:", indent(shown(job.result)));
  if (job.errors.length) {
    lines.push("", "errors:");
    for (const e of job.errors) lines.push(`  attempt ${e.attempt} at ${e.at}: ${e.name ?? "Error"}: ${e.message}`, indent(e.stack ?? "", 4));
  }
  return lines.join("\n") + "\n";
}

function indent(text: string, n = 2): string {
  return text.split("\n").map((l) => " ".repeat(n) + l).join("\n");
}

