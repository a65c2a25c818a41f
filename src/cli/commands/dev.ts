import type { Command } from "commander";
import { defaultDataDir, ensureEmbeddedPostgres, findEmbeddedPostgres } from "../../db/index.js";
import { CliError, printJson } from "../shared.js";

// The embedded PostgreSQL every local process shares (DESIGN.md §5): start it
// explicitly, see where it runs, stop it when done.

export function register(program: Command): void {
  const dev = program.command("dev").description("the embedded development PostgreSQL server (data under .durable/pg)");
  const dataDir = (options: { dataDir?: string }) => options.dataDir ?? defaultDataDir();

  dev.command("start")
    .description("start the embedded server (or find the running one) and print its URL")
    .option("--data-dir <dir>", "data directory (default: $DURABLE_DATA_DIR or .durable/pg in the project)")
    .option("--json", "print JSON")
    .action(async (options) => {
      if (process.env.NODE_ENV === "production") throw new CliError("NODE_ENV=production: the embedded server is for development. Set DATABASE_URL to your database instead.");
      const server = await ensureEmbeddedPostgres({ dataDir: dataDir(options) });
      if (options.json) return printJson({ url: server.url, dataDir: server.dataDir, port: server.port, started: server.started });
      process.stdout.write(`${server.started ? "Started" : "Already running"}: ${server.url}\n  data: ${server.dataDir}\n  use it elsewhere with: export DATABASE_URL=${server.url}\n`);
    });

  dev.command("status")
    .description("show whether the embedded server runs, and its URL")
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print JSON")
    .action(async (options) => {
      const server = await findEmbeddedPostgres({ dataDir: dataDir(options) });
      if (options.json) return printJson(server ? { running: true, url: server.url, dataDir: server.dataDir, port: server.port } : { running: false });
      process.stdout.write(server ? `Running: ${server.url}\n  data: ${server.dataDir}\n` : "Not running. Start it with `durable dev start`.\n");
      if (!server) process.exitCode = 3;
    });

  dev.command("stop")
    .description("stop the embedded server")
    .option("--data-dir <dir>", "data directory")
    .action(async (options) => {
      const server = await findEmbeddedPostgres({ dataDir: dataDir(options) });
      if (!server) return void process.stdout.write("Not running.\n");
      await server.stop();
      process.stdout.write(`Stopped the server on port ${server.port}.\n`);
    });
}
