import type { Command } from "commander";
import type { Admin, JobFilter, JobView } from "../../admin/index.js";
import { textOf } from "../../reports/index.js";
import { ago, describeJob, progressText } from "../describe-job.js";
import { progressReporter } from "../progress.js";
import { printTable } from "../table.js";
import { CliError, filterFrom, intArg, isScoped, jobIdArg, printJson, withAdmin, withConnection, withFilter } from "../shared.js";
import { registerExport } from "./jobs-export.js";

export { describeJob } from "../describe-job.js";

export function register(program: Command): void {
  const jobs = program.command("jobs").description("list, inspect, retry, cancel, delete and export jobs");
  registerList(jobs);
  registerShow(jobs);
  for (const [name, verb, help] of [
    ["retry", "Retried", "run failed, cancelled or completed jobs again now"],
    ["cancel", "Cancelled", "cancel pending and running jobs"],
    ["delete", "Deleted", "delete jobs that are not running"],
  ] as const) {
    registerBulk(jobs, name, verb, help);
  }
  registerExport(jobs);
}

const LIST_COLUMNS: Array<{ header: string; value: (j: JobView) => string | number; align?: "right"; max?: number }> = [
  { header: "id", value: (j) => j.id, align: "right" },
  { header: "state", value: (j) => j.state },
  { header: "queue", value: (j) => j.queue },
  { header: "task", value: (j) => j.task, max: 50 },
  { header: "attempt", value: (j) => `${j.attempt}/${j.maxAttempts}`, align: "right" },
  { header: "progress", value: (j) => progressText(j.progress) },
  { header: "inserted", value: (j) => ago(j.insertedAt) },
  { header: "running", value: (j) => (j.state === "executing" && j.attemptedAt ? ago(j.attemptedAt).replace(/ ago$/, "") : "") },
  { header: "last error", value: (j) => j.lastError?.message ?? "", max: 50 },
];

/** Shown only when a listed job waits for a node: the reason, e.g. "waiting for a node with task X (hash …)". */
const WAITING_COLUMN = { header: "waiting for a node", value: (j: JobView) => j.waitingFor?.text.replace(/^waiting for /, "") ?? "", max: 70 };

function registerList(jobs: Command): void {
  withConnection(withFilter(jobs.command("list").description("list jobs, newest first")))
    .option("--limit <n>", "rows to show", intArg(1, 1000, "a row count"), 50)
    .option("--after <id>", "the next-page cursor printed by the previous page", jobIdArg)
    .option("--meta-column", "add a column with each job's meta")
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      const filter = filterFrom(options);
      await withAdmin(options, async (admin) => {
        const { jobs: rows, next } = await admin.list(filter, { limit: options.limit, after: options.after });
        if (options.json) return printJson(rows);
        const meta = { header: "meta", value: (j: JobView) => textOf(j.meta, 200), max: 40 };
        const base = rows.some((j) => j.waitingFor) ? [...LIST_COLUMNS, WAITING_COLUMN] : LIST_COLUMNS;
        const columns = options.metaColumn ? [...base.slice(0, LIST_COLUMNS.length - 1), meta, ...base.slice(LIST_COLUMNS.length - 1)] : base;
        printTable(columns, rows, "No jobs match.");
        if (next) process.stderr.write(`more: add --after ${next} for the next page\n`);
      });
    });
}

function registerShow(jobs: Command): void {
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
}

function registerBulk(jobs: Command, name: "retry" | "cancel" | "delete", verb: string, help: string): void {
  withConnection(withFilter(jobs.command(name).description(`${help}: by id, or every job matching the filter`)))
    .argument("[ids...]", "job ids", (id: string, previous: string[] = []) => [...previous, jobIdArg(id)])
    .action(async (ids: string[] | undefined, options) => {
      const filter = filterFrom(options, ids ?? []);
      if (!isScoped(filter)) {
        throw new CliError(`give job ids or a filter (--state, --queue, --task, --meta, --tag, --since, --until, --waiting-for-node); \`durable jobs ${name}\` alone would touch every job.`, 2);
      }
      await withAdmin(options, async (admin) => {
        // Read first why a given id would be left alone, so a short count comes with its reason.
        const skipped = filter.ids?.length ? await admin.untouchable(name, filter.ids.map(String)) : [];
        const n = await bulk(admin, name, filter);
        const reasons = skipped.map(({ id, reason }) => `job ${id} ${reason}`);
        if (n === 0 && filter.ids?.length) {
          // Nothing done: an error (exit 1) that says why, instead of "0 jobs".
          throw new CliError(`nothing to ${name}: ${reasons.length ? reasons.join("; ") : "no given job matches the other filters"}.`);
        }
        process.stdout.write(`${verb} ${n} job${n === 1 ? "" : "s"}.\n`);
        for (const line of reasons) process.stderr.write(`skipped: ${line}.\n`);
      });
    });
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
