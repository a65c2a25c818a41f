// Real layouts, end to end: an API process and a worker process of one
// codebase, started from different folders, through the Node hook and through
// an esbuild bundle (built from yet another folder). The API is an HTTP server
// that listens at its top level and enqueues from route handlers; the worker
// imports none of the task modules. What must hold: both derive the same task
// ids; the worker runs every job (ES module, CommonJS, a module-level call
// above a later import) and the module-level cron entry it never imported;
// and it never runs a task module's top level, so no second server starts.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { JobFailedError } from "../../src/errors.js";
import { eventually, testDatabase } from "../support/db.js";
import { layoutApp } from "./layout-app.js";
import { makeApp, registerHook, runNode } from "./apps.js";

type Db = Awaited<ReturnType<typeof testDatabase>>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** Starts `node <args>` in `cwd`; resolves once it prints `ready` on stdout. */
function startProcess(args: string[], cwd: string, env: Record<string, string>, ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes(ready)) resolve(child);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d) => (output += d));
    child.on("exit", (code) => reject(new Error(`node ${args.join(" ")} exited with ${code} before "${ready}":\n${output}`)));
  });
}

async function get(port: number, path: string): Promise<any> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return response.json();
}

/** Runs the API (from the app root) and a worker (from `workerCwd`), then checks every job and the marker file. */
async function runLayout(db: Db, root: string, api: string[], worker: { args: string[]; cwd: string }) {
  const port = await freePort();
  const marker = join(root, "marker.log");
  writeFileSync(marker, "");
  const env = { DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema, MARKER_FILE: marker, PORT: String(port) };
  const apiProcess = await startProcess(api, root, env, "listening");
  const greet = await get(port, "/greet?name=ada");
  const legacy = await get(port, "/legacy?n=21");
  const early = await get(port, "/early");
  const explode = await get(port, "/explode?name=bo");
  const workerProcess = await startProcess(worker.args, worker.cwd, env, "worker ready");
  const client = await db.start({ run: false });
  await expect(client.await(greet.id, { timeout: "60s" })).resolves.toBe("HELLO ADA");
  await expect(client.await(legacy.id, { timeout: "60s" })).resolves.toBe(42);
  await expect(client.await(early.id, { timeout: "60s" })).resolves.toBe(42);
  // The slice's source map: the recorded stack points at the user's line in server.ts.
  const failure = (await client.await(explode.id, { timeout: "60s" }).catch((error: unknown) => error)) as JobFailedError;
  expect(failure).toBeInstanceOf(JobFailedError);
  const throwLine = layoutApp["src/server.ts"]!.split("\n").findIndex((l) => l.includes("exploded for")) + 1;
  expect(failure.lastError!.stack).toContain(`${join(root, "src/server.ts")}:${throwLine}:`);
  // The cron entry of a module the worker never imports ticks there.
  const ticked = await eventually("a completed every-second cron job", async () => {
    const page = await client.jobs.list({ task: "every-second", state: "completed" });
    return page.jobs[0];
  }, 60_000);
  await expect(client.await(ticked.id, { timeout: "10s" })).resolves.toBe(100);
  const lines = readFileSync(marker, "utf8").trim().split("\n");
  expect(lines.filter((l) => l.endsWith(` ${workerProcess.pid}`)), "the worker ran a task module's top level").toEqual([]);
  expect(lines.filter((l) => l.endsWith(` ${apiProcess.pid}`)).sort()).toEqual([
    `early top level in ${apiProcess.pid}`, `legacy top level in ${apiProcess.pid}`, `server top level in ${apiProcess.pid}`,
  ]);
  expect(lines.some((l) => l.startsWith("schedules"))).toBe(false);
}

describe("real layouts", () => {
  it("Node hook: API from the app root, worker from src/, same ids, no second server", async () => {
    const db = await testDatabase();
    const root = makeApp("layout-hook", layoutApp);
    await runLayout(db, root, ["--import", registerHook, "src/server.ts"], { args: ["--import", registerHook, "worker.ts"], cwd: join(root, "src") });
  });

  it("esbuild bundle built from another folder: API from the root, worker from out/ (with a type-only package.json)", async () => {
    const db = await testDatabase();
    const root = makeApp("layout-esbuild", {
      ...layoutApp,
      "out/package.json": JSON.stringify({ type: "module" }),
      "build.mjs": `import { build } from "esbuild";
import durable from "durable-async/esbuild";
const root = new URL(".", import.meta.url).pathname;
await build({
  entryPoints: ["src/server.ts", "src/worker.ts"], absWorkingDir: root, outdir: "out", outExtension: { ".js": ".mjs" },
  bundle: true, packages: "external", format: "esm", platform: "node", target: "node20", sourcemap: true, logLevel: "error",
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  plugins: [durable()],
});
`,
    });
    const built = await runNode([join(root, "build.mjs")], join(root, "src"));
    expect(built.code, built.stderr).toBe(0);
    expect(existsSync(join(root, "out/worker.mjs"))).toBe(true);
    await runLayout(db, root, ["--enable-source-maps", "out/server.mjs"], { args: ["--enable-source-maps", "worker.mjs"], cwd: join(root, "out") });
  });

  it("an API node that also runs jobs uses its own loaded modules' stubs, not slices", async () => {
    const db = await testDatabase();
    const root = makeApp("layout-api-runs", layoutApp);
    const port = await freePort();
    const marker = join(root, "marker.log");
    writeFileSync(marker, "");
    const env = {
      DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema, MARKER_FILE: marker, PORT: String(port), RUN_JOBS: "1", NODE_TYPES: "api,worker",
    };
    await startProcess(["--import", registerHook, "src/server.ts"], root, env, "listening");
    const greet = await get(port, "/greet?name=bo");
    const client = await db.start({ run: false });
    await expect(client.await(greet.id, { timeout: "60s" })).resolves.toBe("HELLO BO");
    const { fromSlice } = await get(port, "/registry");
    // Only the cron module, which this process never imported, came from a slice.
    expect(fromSlice).toEqual(["every-second"]);
  });

  it("monorepo: an API package and a worker package of one npm workspace agree on ids (the workspace root's)", async () => {
    const db = await testDatabase();
    const root = makeApp("layout-monorepo", {
      "package.json": JSON.stringify({ name: "mono", private: true, type: "module", workspaces: ["packages/*"] }),
      "packages/shared/package.json": JSON.stringify({ name: "@mono/shared", type: "module" }),
      "packages/shared/src/welcome.ts": "export const welcome = (email: string): string => `welcome ${email}`;\n",
      "packages/api/package.json": JSON.stringify({ name: "@mono/api", type: "module" }),
      "packages/api/dist/package.json": JSON.stringify({ type: "module" }),
      "packages/api/src/routes.ts": `import { appendFileSync } from "node:fs";
import { durable } from "durable-async";
import { welcome } from "../../shared/src/welcome.js";
appendFileSync(process.env.MARKER_FILE!, \`routes top level in \${process.pid}\\n\`);
export function signup(email: string) {
  return durable.async(() => welcome(email));
}
`,
      "packages/api/src/enqueue.ts": `import { durable } from "durable-async";
import { signup } from "./routes.js";
await durable.start({ database: process.env.DATABASE_URL, schema: process.env.DURABLE_SCHEMA, run: false });
const job = await signup("ada@example.com");
console.log(JSON.stringify({ id: job.id, task: job.task }));
await Promise.race([durable.stop(), new Promise((resolve) => setTimeout(resolve, 5000))]);
process.exit(0);
`,
      "packages/worker/package.json": JSON.stringify({ name: "@mono/worker", type: "module" }),
      "packages/worker/src/worker.ts": layoutApp["src/worker.ts"]!,
    });
    const marker = join(root, "marker.log");
    writeFileSync(marker, "");
    const env = { DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema, MARKER_FILE: marker };
    const run = await runNode(["--import", registerHook, "src/enqueue.ts"], join(root, "packages/api"), env);
    expect(run.code, run.stderr).toBe(0);
    const job = JSON.parse(run.stdout.trim().split("\n").pop()!);
    expect(job.task).toBe("packages/api/src/routes.ts#signup#0");
    const worker = await startProcess(["--import", registerHook, "worker.ts"], join(root, "packages/worker/src"), env, "worker ready");
    const client = await db.start({ run: false });
    await expect(client.await(job.id, { timeout: "60s" })).resolves.toBe("welcome ada@example.com");
    expect(readFileSync(marker, "utf8")).not.toContain(`in ${worker.pid}`);
  });
});
