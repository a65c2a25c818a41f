import type { Command } from "commander";
import { startDashboard } from "../../dashboard/index.js";
import { isLoopback } from "../../dashboard/security.js";
import { CliError, intArg, withAdmin, withConnection } from "../shared.js";

export function register(program: Command): void {
  withConnection(program.command("dashboard").description("serve the web dashboard (loopback only unless a token is set)"))
    .option("--port <port>", "port to listen on", intArg(0, 65_535, "a TCP port"), 4050)
    .option("--host <host>", "address to bind; anything but loopback requires --token", "127.0.0.1")
    .option("--token <secret>", "require this token (default: $DURABLE_DASHBOARD_TOKEN)")
    .option("--base-path <path>", "serve under a path prefix, e.g. /durable")
    .option("--read-only", "show everything, allow no actions")
    .action(async (options) => {
      const token: string | undefined = options.token ?? process.env.DURABLE_DASHBOARD_TOKEN ?? undefined;
      if (!isLoopback(options.host) && !token) {
        throw new CliError(`--host ${options.host} is reachable from other machines: pass --token <secret> (or set DURABLE_DASHBOARD_TOKEN), or bind to 127.0.0.1.`, 2);
      }
      if (token !== undefined && token.length < 12) throw new CliError("--token is too short: use at least 12 random characters (e.g. `openssl rand -hex 16`).", 2);
      // Fail now, with the fix, rather than on the first page view.
      await withAdmin(options, async () => undefined);
      const dashboard = await startDashboard({
        database: options.database,
        schema: options.schema,
        port: options.port,
        host: options.host,
        token,
        readOnly: Boolean(options.readOnly),
        basePath: options.basePath,
      });
      process.stdout.write(`durable dashboard on ${dashboard.url}${token ? "?token=…" : ""}${options.readOnly ? " (read-only)" : ""}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void dashboard.close().finally(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
