import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import { durable } from "../../durable.js";
import type { StartOptions } from "../../config/start.js";
import { knownTasks } from "../../tasks/registry.js";
import { CliError, collect, durationArg, withConnection } from "../shared.js";

// `durable worker --import ./dist/app.js`: loads the user's built code (which
// registers its task stubs, and through the integrations' manifest every
// lazily loadable stub), then starts a node that runs the chosen node types.

function queuesArg(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const out = { ...previous };
  for (const part of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.:-]{1,100})=(\d{1,5})$/.exec(part);
    if (!m) throw new CliError(`option '--queues <queue=n>' argument '${part}' is invalid: use queue=concurrency, e.g. --queues ad_hoc_worker=10,reports=2.`, 2);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function register(program: Command): void {
  withConnection(program.command("worker").description("run jobs: load your code, then execute the queues of the given node types until SIGTERM"))
    .option("-i, --import <module>", "module to load first, e.g. ./dist/app.js (repeatable); it registers your task stubs", collect)
    .option("--register", "load TypeScript sources through the durable-async/register hook (development)")
    .option("--node-type <types>", "node types this process runs, comma-separated (default: worker)")
    .option("--node-types <types>", "extra node types to declare besides worker, api, datasync (comma-separated)")
    .option("--queues <queue=n>", "concurrency per queue, e.g. ad_hoc_worker=10 (repeatable or comma-separated)", queuesArg)
    .option("--shutdown-grace <duration>", "how long running jobs may finish on SIGTERM", durationArg)
    .action(async (options) => {
      const modules: string[] = options.import ?? [];
      const nodeType = options.nodeType ? String(options.nodeType).split(",").map((s: string) => s.trim()).filter(Boolean) : undefined;
      const nodeTypes = options.nodeTypes ? String(options.nodeTypes).split(",").map((s: string) => s.trim()).filter(Boolean) : undefined;
      // The flags that configure the instance. An entry that calls durable.start() itself (README's
      // worker.ts does) gets them merged over its own options, so they are never ignored.
      const flags = definedOnly({
        database: [options.database, "--database"],
        schema: [options.schema, "--schema"],
        nodeType: [nodeType, "--node-type"],
        nodeTypes: [nodeTypes, "--node-types"],
        queues: [options.queues, "--queues"],
        shutdownGrace: [options.shutdownGrace, "--shutdown-grace"],
      });
      const overrides = Object.fromEntries(Object.entries(flags).map(([key, [value]]) => [key, value])) as StartOptions;
      const flagNames = Object.values(flags).map(([, flag]) => flag);
      const start = durable.start;
      let entryStart: Promise<void> | null = null;
      durable.start = (entryOptions: StartOptions = {}) => {
        const merged = mergeStartOptions(entryOptions, overrides);
        if (entryStart === null && flagNames.length) {
          process.stderr.write(`durable worker: ${flagNames.join(", ")} ${flagNames.length === 1 ? "applies" : "apply"} over the options of the entry's durable.start().\n`);
        }
        const started = start.call(durable, merged);
        entryStart ??= started;
        return started;
      };
      if (options.register) {
        // Relative to dist/src/cli/commands/: the package's own register hook.
        await import(new URL("../../../transformer/integrations/register.js", import.meta.url).href);
      }
      for (const spec of modules) {
        const path = resolve(spec);
        const bare = !spec.startsWith(".") && !spec.startsWith("/");
        if (!bare && !existsSync(path)) throw new CliError(`--import ${spec}: no such file (${path}). Build your app first, or pass the path of its entry module.`, 2);
        try {
          await import(bare ? spec : pathToFileURL(path).href);
        } catch (error) {
          throw new CliError(`--import ${spec} failed to load: ${(error as Error).message}`);
        }
      }
      // The entry started durable (with the flags merged in): wait for that start. Otherwise start it here;
      // start() also takes over a client-only instance an enqueue in the entry may have connected.
      await (entryStart ?? durable.start(overrides));
      const instance = durable.instance;
      const queues = Object.entries(instance.config.queues).map(([quotedSchema, n]) => `${quotedSchema}×${n}`).join(", ");
      process.stderr.write(
        `durable worker ${instance.runner?.nodeId ?? "(not running jobs)"}: ${queues || "no queues"}; ${knownTasks().length} task${knownTasks().length === 1 ? "" : "s"} known; schema "${instance.config.schema}"\n`,
      );
      if (knownTasks().length === 0) {
        process.stderr.write("warning: no task stubs are registered; pass --import with your built entry module so this worker can run your closures.\n");
      }
      // Signal handlers installed by durable.start() stop gracefully and exit; this keeps the loop alive until then.
      setInterval(() => undefined, 1 << 30);
    });
}

function definedOnly<T extends Record<string, [unknown, string]>>(entries: T): Partial<T> {
  return Object.fromEntries(Object.entries(entries).filter(([, [value]]) => value !== undefined)) as Partial<T>;
}

/** The command's flags win over the entry's options; declared node types add up. */
export function mergeStartOptions(entry: StartOptions, flags: StartOptions): StartOptions {
  const merged: StartOptions = { ...entry, ...flags };
  if (flags.nodeTypes && entry.nodeTypes) merged.nodeTypes = [...new Set([...(entry.nodeTypes as string[]), ...(flags.nodeTypes as string[])])];
  return merged;
}
