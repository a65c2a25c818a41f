#!/usr/bin/env node
import { CommanderError } from "commander";
import { commanderPrinted, createProgram } from "./program.js";
import { InvalidOptionError } from "../errors.js";
import { CliError, describeError } from "./shared.js";

// The `durable` executable. Errors the user can fix print one line without a
// stack; DURABLE_DEBUG=1 shows the stack of anything unexpected.
try {
  const program = await createProgram();
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander printed its own parse errors (and help/version text); an argument error thrown by an action it did not.
    const quiet = error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0;
    if (!quiet && !commanderPrinted()) process.stderr.write(`error: ${error.message.replace(/^error: /, "")}\n`);
    process.exitCode = error.exitCode === 0 ? 0 : error.code === "commander.helpDisplayed" || error.code === "commander.version" ? 0 : 2;
  } else {
    process.stderr.write(`error: ${describeError(error)}\n`);
    if (process.env.DURABLE_DEBUG && error instanceof Error && !(error instanceof CliError)) process.stderr.write(`${error.stack}\n`);
    // A bad option (e.g. an unknown --node-type caught by durable.start) is a usage error too.
    process.exitCode = error instanceof CliError ? error.exitCode : error instanceof InvalidOptionError ? 2 : 1;
  }
}
