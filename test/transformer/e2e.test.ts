// End to end (issue 3 acceptance): an app run with the Node hook enqueues
// closures that a separate worker process, started from the same sources,
// runs with the right captured values; the same with an esbuild bundle; and
// a closure that throws shows its original line in the recorded error.
// The worker's entry never imports the task module: discovery must find it.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it, onTestFinished } from "vitest";
import { JobFailedError } from "../../src/errors.js";
import { durableEsbuild } from "../../transformer/integrations/esbuild.js";
import { testDatabase } from "../support/db.js";
import { makeApp, registerHook, runNode } from "./apps.js";

const tasks = `import { durable } from "durable-async";

export interface Order { id: number; items: string[]; placed: Date; tags: Map<string, number> }

export function summarize(order: Order, note: string) {
  const count = order.items.length;
  return durable.async(() => ({ id: order.id, count, year: order.placed.getUTCFullYear(), tag: order.tags.get("vip"), note }));
}

export function explode(orderId: number) {
  return durable.async(() => {
    throw new Error(\`exploded \${orderId}\`);
  }, { maxAttempts: 1 });
}
`;
const THROW_LINE = tasks.split("\n").findIndex((l) => l.includes("throw new Error")) + 1;

const enqueue = `import { durable } from "durable-async";
import { explode, summarize } from "./tasks.js";

await durable.start({ database: process.env.DATABASE_URL, schema: process.env.DURABLE_SCHEMA, run: false });
const order = { id: 42, items: ["a", "b", "c"], placed: new Date(Date.UTC(2024, 0, 2)), tags: new Map([["vip", 7]]) };
const ok = await summarize(order, "hello");
const bad = await explode(13);
console.log(JSON.stringify({ ok: ok.id, bad: bad.id }));
// The inserts are committed (awaited above); stop() is the runtime's concern,
// so this test does not hang on it.
await Promise.race([durable.stop(), new Promise((resolve) => setTimeout(resolve, 5000))]);
process.exit(0);
`;

const worker = `import { durable } from "durable-async";

await durable.start({ database: process.env.DATABASE_URL, schema: process.env.DURABLE_SCHEMA, nodeType: "worker", pollInterval: 200 });
console.log("worker ready");
`;

function startWorker(args: string[], cwd: string, env: Record<string, string>): void {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit"] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
}

async function expectJobsRan(db: Awaited<ReturnType<typeof testDatabase>>, ids: { ok: string; bad: string }, tasksFile: string) {
  const client = await db.start({ run: false });
  await expect(client.await(ids.ok, { timeout: "60s" })).resolves.toEqual({ id: 42, count: 3, year: 2024, tag: 7, note: "hello" });
  const failure = await client.await(ids.bad, { timeout: "60s" }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(JobFailedError);
  const recorded = (failure as JobFailedError).lastError!;
  expect(recorded.message).toContain("exploded 13");
  expect(recorded.stack).toContain(`${tasksFile}:${THROW_LINE}:`);
}

describe("end to end", () => {
  it("Node hook: an enqueuing app and a separate worker process from the same sources", async () => {
    const db = await testDatabase();
    const root = makeApp("e2e-hook", { "src/tasks.ts": tasks, "src/enqueue.ts": enqueue, "src/worker.ts": worker });
    const env = { DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema };
    const run = await runNode(["--import", registerHook, "src/enqueue.ts"], root, env);
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    const ids = JSON.parse(run.stdout.trim().split("\n").pop()!);
    startWorker(["--import", registerHook, "src/worker.ts"], root, env);
    await expectJobsRan(db, ids, join(root, "src/tasks.ts"));
  });

  it("esbuild bundle: the worker bundle carries the task module its entry never imports", async () => {
    const db = await testDatabase();
    const root = makeApp("e2e-esbuild", { "src/tasks.ts": tasks, "src/enqueue.ts": enqueue, "src/worker.ts": worker });
    await build({
      entryPoints: [join(root, "src/enqueue.ts"), join(root, "src/worker.ts")], outdir: join(root, "out"), outExtension: { ".js": ".mjs" },
      bundle: true, packages: "external", format: "esm", platform: "node", target: "node20", sourcemap: true,
      absWorkingDir: root, plugins: [durableEsbuild({ root })], logLevel: "error",
    });
    const env = { DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema };
    const run = await runNode(["--enable-source-maps", "out/enqueue.mjs"], root, env);
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    const ids = JSON.parse(run.stdout.trim().split("\n").pop()!);
    startWorker(["--enable-source-maps", "out/worker.mjs"], root, env);
    // esbuild's map names sources relative to the bundle; Node prints them resolved.
    await expectJobsRan(db, ids, join(root, "src/tasks.ts"));
  });
});
