import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import type { JobFilter } from "../../admin/index.js";
import { progressReporter } from "../progress.js";
import { CliError, filterFrom, withAdmin, withConnection, withFilter } from "../shared.js";

export function registerExport(jobs: Command): void {
  withConnection(withFilter(jobs.command("export").description("stream matching jobs as CSV (or JSON lines); memory stays flat however many match")))
    .option("--format <format>", "csv or jsonl", (v: string) => {
      if (v !== "csv" && v !== "jsonl") throw new CliError(`option '--format <format>' argument '${v}' is invalid: use csv or jsonl.`, 2);
      return v;
    }, "csv")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (options) => {
      const filter: JobFilter = filterFrom(options);
      await withAdmin(options, async (admin) => {
        const out = options.output ? createWriteStream(options.output) : process.stdout;
        if (options.format === "csv") {
          // The reports module streams CSV (RFC 4180, formula-safe cells) page by page.
          await pipeline(admin.csv(filter), out, { end: Boolean(options.output) });
        } else {
          const total = options.output && process.stderr.isTTY ? await admin.count(filter) : 0;
          const reporter = progressReporter("exporting", total);
          let n = 0;
          for await (const job of admin.stream(filter)) {
            if (!out.write(JSON.stringify(job) + "\n")) await once(out, "drain");
            reporter.update(++n);
          }
          reporter.finish();
          if (options.output) await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(() => resolve()));
        }
        if (options.output) process.stderr.write(`Exported to ${options.output}.\n`);
      });
    });
}
