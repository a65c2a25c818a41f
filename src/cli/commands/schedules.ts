import type { Command } from "commander";
import { printTable } from "../table.js";
import { CliError, printJson, withAdmin, withConnection } from "../shared.js";
import { terminalSafe } from "../safe-text.js";
import type { ScheduleInfo } from "../../cron/index.js";
import { neverFires } from "../../admin/filter.js";

const at = (d: Date | null) => (d ? d.toISOString() : "");

function printOne(s: ScheduleInfo, verb: string): void {
  process.stdout.write(terminalSafe(`${verb} ${s.name}: ${s.paused ? "paused" : `next run ${at(s.nextRunAt)}`} (${s.expression}${s.retimed ? `, declared ${s.declaredExpression}` : ""}, ${s.tz}).`) + "\n");
}

export function register(program: Command): void {
  const schedules = program.command("schedules").description("cron entries: list with next run; pause, resume, retime on every node (persisted); remove one added at run time");

  withConnection(schedules.command("list").description("cron entries declared by nodes or added with durable.schedules.add(), with expression, time zone, next and last run"))
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      await withAdmin(options, async (admin) => {
        const rows = await admin.schedules.list();
        if (options.json) return printJson(rows);
        printTable(
          [
            { header: "name", value: (s) => s.name },
            { header: "expression", value: (s) => (s.retimed ? `${s.expression} (retimed; code: ${s.declaredExpression})` : s.expression) },
            { header: "tz", value: (s) => s.tz },
            { header: "state", value: (s) => (s.paused ? "paused" : "active") },
            { header: "next run", value: (s) => at(s.nextRunAt) },
            { header: "last tick", value: (s) => at(s.lastTickAt) },
            { header: "task", value: (s) => s.task ?? "" },
            { header: "origin", value: (s) => (s.origin === "api" ? "added" : "code") },
          ],
          rows,
          "No cron entries yet: they appear when a node that declares them starts.",
        );
      });
    });

  withConnection(schedules.command("pause").description("no node fires the entry until it is resumed (missed ticks are skipped)"))
    .argument("<name>", "entry name, as listed")
    .action(async (name: string, options) => printOne(await withAdmin(options, (admin) => admin.schedules.pause(name)), "Paused"));

  withConnection(schedules.command("resume").description("fire the entry again from its next tick"))
    .argument("<name>", "entry name, as listed")
    .action(async (name: string, options) => printOne(await withAdmin(options, (admin) => admin.schedules.resume(name)), "Resumed"));

  withConnection(schedules.command("retime").description("run the entry on another cron expression on every node; --reset goes back to the one in code"))
    .argument("<name>", "entry name, as listed")
    .argument("[expression]", "cron expression, e.g. \"*/10 * * * *\"")
    .option("--reset", "use the expression declared in code again")
    .action(async (name: string, expression: string | undefined, options) => {
      if (options.reset && expression !== undefined) {
        throw new CliError(`give either a cron expression or --reset, not both: --reset goes back to the expression declared in code, so "${expression}" would be ignored.`, 2);
      }
      const next = options.reset ? null : expression;
      if (next === undefined) throw new CliError(`give a cron expression, e.g. durable schedules retime ${name} "*/10 * * * *", or --reset.`, 2);
      printOne(
        await withAdmin(options, async (admin) => {
          if (next !== null) {
            const entry = (await admin.schedules.list()).find((s) => s.name === name);
            if (neverFires(next, entry?.tz)) {
              throw new CliError(`cron expression "${next}" never fires (no date matches it, like February 31st); the entry would never run again. Check the day and month fields, or pause the entry with \`durable schedules pause ${name}\`.`, 2);
            }
          }
          return admin.schedules.retime(name, next);
        }),
        "Retimed",
      );
    });

  withConnection(schedules.command("remove").description("delete an entry added with durable.schedules.add() on every node (entries declared in code are refused)"))
    .argument("<name>", "entry name, as listed")
    .action(async (name: string, options) => {
      await withAdmin(options, (admin) => admin.schedules.remove(name));
      process.stdout.write(`Removed ${name}.\n`);
    });
}
