import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { Command } from "commander";
import type { JobFilter } from "../../admin/index.js";
import { progressReporter } from "../progress.js";
import { CliError, filterFrom, withAdmin, withConnection, withFilter } from "../shared.js";

const COLUMNS = ["id", "state", "queue", "task_id", "attempt", "max_attempts", "priority", "meta", "tags", "inserted_at", "attempted_at", "finished_at", "last_error"] as const;

/** RFC 4180 quoting; a leading =,+,-,@ is prefixed so spreadsheets do not run user data as a formula. */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? "" : value instanceof Date ? value.toISOString() : typeof value === "object" ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function registerExport(jobs: Command): void {
  withConnection(withFilter(jobs.command("export").description("stream matching jobs as CSV (or JSON lines), newest first")))
    .option("--format <format>", "csv or jsonl", (v: string) => {
      if (v !== "csv" && v !== "jsonl") throw new CliError(`option '--format <format>' argument '${v}' is invalid: use csv or jsonl.`, 2);
      return v;
    }, "csv")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (options) => {
      const filter: JobFilter = filterFrom(options);
      const out = options.output ? createWriteStream(options.output) : process.stdout;
      await withAdmin(options, async (admin) => {
        const total = options.output && process.stderr.isTTY ? await admin.count(filter) : 0;
        const reporter = progressReporter("exporting", total);
        let n = 0;
        const write = async (text: string) => {
          if (!out.write(text)) await once(out, "drain");
        };
        if (options.format === "csv") await write(COLUMNS.join(",") + "\n");
        for await (const job of admin.stream(filter)) {
          const last = job.errors.length ? job.errors[job.errors.length - 1]!.message : "";
          if (options.format === "csv") {
            const row = { ...job, last_error: last } as Record<string, unknown>;
            await write(COLUMNS.map((c) => csvField(row[c])).join(",") + "\n");
          } else {
            await write(JSON.stringify(job) + "\n");
          }
          reporter.update(++n);
        }
        reporter.finish();
        if (options.output) {
          await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(() => resolve()));
          process.stderr.write(`Exported ${n} job${n === 1 ? "" : "s"} to ${options.output}.\n`);
        }
      });
    });
}
