import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { CliError } from "../shared.js";

// `durable check [paths...]`: the transformer's diagnostics without a build.
// The transformer (and the TypeScript checker) is loaded only when the
// command runs, so other commands start fast.
export function register(program: Command): void {
  program
    .command("check")
    .description("report every durable call site, its id, captures and diagnostics (exit 1 on errors)")
    .argument("[paths...]", "files or directories to check (default: the project root)")
    .option("--root <dir>", "project root; task ids are relative to it (default: each file's project, from the nearest package.json)")
    .option("--json", "print the report as JSON")
    .option("--node-types <types>", "comma-separated node types; a literal nodeType outside them is an error")
    .action(async (paths: string[], options: { root?: string; json?: boolean; nodeTypes?: string }) => {
      // A path that does not exist is a bad argument (exit 2), not a crash of the checker.
      for (const path of paths) {
        if (!existsSync(path)) throw new CliError(`${path}: no such file or directory (${resolve(path)}). Pass files or directories of your project, or none for the whole project.`, 2);
      }
      if (options.root !== undefined && !existsSync(options.root)) throw new CliError(`option '--root' ${options.root}: no such directory (${resolve(options.root)}).`, 2);
      const { runCheck, formatCheckReport } = await import("../../../transformer/check.js");
      const report = await runCheck(paths, { root: options.root, nodeTypes: options.nodeTypes?.split(",").map((t) => t.trim()) });
      process.stdout.write(`${options.json ? JSON.stringify(report, null, 2) : formatCheckReport(report)}\n`);
      process.exitCode = report.errors > 0 ? 1 : 0;
    });
}
