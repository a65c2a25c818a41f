import type { Command } from "commander";
import type { BuildInfo } from "../../nodes/index.js";
import { printTable } from "../table.js";
import { CliError, printJson, withAdmin, withConnection } from "../shared.js";
import { suggest } from "../../contract/index.js";
import { terminalSafe } from "../safe-text.js";

/** `durable nodes`: live nodes by build with what each can run; drain a build before stopping it. */
export function register(program: Command): void {
  const nodes = program.command("nodes").description("live nodes by build, what each can run; drain a build before a deploy stops it");

  withConnection(nodes.command("list", { isDefault: true }).description("live nodes grouped by build, with their tasks and the pending jobs only that build can run"))
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      await withAdmin(options, async (admin) => {
        const builds = await admin.builds.builds();
        if (options.json) return printJson(builds);
        printTable(
          [
            { header: "build", value: (b: BuildInfo) => `${b.build ?? "(unnamed)"}${b.draining ? " (draining)" : ""}` },
            { header: "nodes", value: (b: BuildInfo) => b.nodes.length, align: "right" },
            { header: "hosts", value: (b: BuildInfo) => [...new Set(b.nodes.map((n) => `${n.hostname}:${n.pid}`))].join(", "), max: 40 },
            { header: "tasks", value: (b: BuildInfo) => b.taskIds.length, align: "right" },
            { header: "jobs only it runs", value: (b: BuildInfo) => b.jobsOnlyItRuns, align: "right" },
          ],
          builds,
          "No live nodes.",
        );
        for (const b of builds) {
          process.stdout.write(terminalSafe(`\n${b.build ?? "(unnamed)"}: ${b.taskIds.length ? b.taskIds.join(", ") : "no tasks (enqueues and awaits only)"}`, { keepLines: true }) + "\n");
        }
        const stoppable = builds.filter((b) => b.jobsOnlyItRuns === 0 && b.nodes.some((n) => n.taskIds.length > 0)).map((b) => b.build ?? "(unnamed)");
        if (builds.length > 1 && stoppable.length) process.stdout.write(terminalSafe(`\nNo pending job needs only: ${stoppable.join(", ")}.`, { keepLines: true }) + "\n");
      });
    });

  withConnection(nodes.command("drain").description("a build's nodes stop claiming work another build can run; they finish what they hold and run the jobs only they can"))
    .argument("<build>", "build name as `durable nodes` lists it")
    .option("--force", "drain a build no live node runs (its nodes that start later will not claim); without it an unknown build is refused as a typo")
    .action(async (build: string, options) => {
      const n = await withAdmin(options, async (admin) => {
        // A name that is not a build name at all gets drain()'s own message.
        if (!options.force && /^[\x21-\x7e]{1,100}$/.test(build)) {
          const live = (await admin.builds.builds()).map((b) => b.build).filter((b): b is string => typeof b === "string");
          if (!live.includes(build)) {
            const guess = suggest(build, live);
            throw new CliError(
              `no live node runs build "${build}".${guess ? ` Did you mean "${guess}"?` : ""} Live builds: ${live.length ? live.join(", ") : "none"} (see \`durable nodes\`). To drain it for nodes that start later, pass --force.`,
              2,
            );
          }
        }
        return admin.builds.drain(build);
      });
      process.stdout.write(`Drained build ${build} (${n} live node${n === 1 ? "" : "s"}${n === 0 ? "; nodes of it that start later will not claim either" : ""}). Watch \`durable nodes\` until "jobs only it runs" is 0, then stop them.\n`);
    });

  withConnection(nodes.command("undrain").description("let a drained build's nodes claim everything they can run again"))
    .argument("<build>", "build name")
    .action(async (build: string, options) => {
      const n = await withAdmin(options, (admin) => admin.builds.undrain(build));
      process.stdout.write(`Undrained build ${build} (${n} live node${n === 1 ? "" : "s"}).\n`);
    });
}
