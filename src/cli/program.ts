import { readFileSync } from "node:fs";
import { Command } from "commander";
import { register as dashboard } from "./commands/dashboard.js";
import { register as dev } from "./commands/dev.js";
import { register as jobs } from "./commands/jobs.js";
import { register as migrate } from "./commands/migrate.js";
import { register as queues } from "./commands/queues.js";
import { register as schedules } from "./commands/schedules.js";
import { register as nodes } from "./commands/nodes.js";
import { register as worker } from "./commands/worker.js";
import { CliError } from "./shared.js";

function version(): string {
  try {
    return JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")).version;
  } catch {
    return "unknown";
  }
}

/**
 * `check` and `build` belong to the transformer; they are loaded when present
 * in this build, and otherwise answer with what is missing instead of
 * "unknown command".
 */
async function transformerCommand(program: Command, name: "check" | "build", description: string): Promise<void> {
  const file = `./commands/${name}.js`;
  try {
    const module = await import(file);
    if (typeof module.register === "function") return module.register(program);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw error;
  }
  program
    .command(name)
    .description(`${description} (not available in this build)`)
    .allowUnknownOption()
    .argument("[args...]")
    .action(() => {
      throw new CliError(`\`durable ${name}\` is not included in this build of durable-async; reinstall the package.`);
    });
}

let usageErrorPrinted = false;
/** Whether commander printed a usage error itself (one thrown from inside an action is not printed). */
export const commanderPrinted = (): boolean => usageErrorPrinted;

export async function createProgram(): Promise<Command> {
  const program = new Command("durable")
    .configureOutput({
      writeErr: (text) => {
        usageErrorPrinted = true;
        process.stderr.write(text);
      },
    })
    .description("durable-async: durable closures on Postgres. Operate workers, queues and jobs.")
    .version(version(), "-v, --version")
    .showHelpAfterError("(add --help for usage)")
    .showSuggestionAfterError(true);
  program.configureHelp({ sortSubcommands: false });
  worker(program);
  migrate(program);
  dashboard(program);
  await transformerCommand(program, "check", "report every durable call site, its captures and diagnostics");
  await transformerCommand(program, "build", "bundle the app with call sites transformed");
  jobs(program);
  queues(program);
  schedules(program);
  nodes(program);
  dev(program);
  // Usage errors in nested commands too: exit 2 like most Unix tools, with commander's message.
  const exitOverride = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(exitOverride);
  };
  exitOverride(program);
  return program;
}
