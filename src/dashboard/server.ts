import { createServer, type Server } from "node:http";
import { ConfigError } from "../errors.js";
import { buildHandler, type DashboardOptions } from "./handler.js";
import { isLoopback } from "./security.js";

export interface DashboardServerOptions extends DashboardOptions {
  port?: number;
  /** Default 127.0.0.1. Any other address requires a token. */
  host?: string;
}

export interface DashboardServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves the dashboard on its own port; what `durable dashboard` runs. */
export async function startDashboard(options: DashboardServerOptions = {}): Promise<DashboardServer> {
  const host = options.host ?? "127.0.0.1";
  if (!isLoopback(host) && !options.token) {
    throw new ConfigError(
      `Refusing to serve the dashboard on ${host} without a token: anyone who can reach it could cancel jobs and read job data. Pass --token <secret> (or DURABLE_DASHBOARD_TOKEN), or bind to 127.0.0.1.`,
    );
  }
  const handler = buildHandler(options, { quietLoopback: true });
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 4050, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}${options.basePath?.replace(/\/+$/, "") ?? ""}/`,
    server,
    close: async () => {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handler.close();
    },
  };
}
