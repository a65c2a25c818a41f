import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transform } from "../../transformer/index.js";
import { testDatabase } from "../support/db.js";
import { repoRoot } from "../support/examples.js";
import { packFreshCopy } from "../support/pack.js";
import { freePort } from "../support/ports.js";
import { SETUPS } from "./readme-setups.js";

// Every fenced block of README.md is run, in order, in a new app outside the
// repository that installs the packed package, the way a reader would.
//
// How to mark a sample: an HTML comment on the line right above the fence,
//   <!-- sample: MODE key="value" flag -->
// MODE is one of
//   run            (the default for ts/js) the block is a module: written to
//                  .samples/, type-checked, run with `node --import
//                  durable-async/register`; it must exit 0. `durable.stop()`
//                  is appended, so a sample that starts durable ends.
//                  setup="NAME" prepends a prelude from readme-setups.ts
//                  (the declarations a fragment takes for granted).
//   file           path="src/x.ts": the block is a file of the app, which
//                  later samples import and commands run; type-checked.
//   sh             (the default for sh) each line runs in the app;
//                  `npm install durable-async` installs the packed tarball;
//                  a line ending in `&` runs in the background until the
//                  block ends (the next line waits for its first output);
//                  localhost:3000 is a free port (also $PORT).
//                  expect="text": the block's output (background lines
//                  included) must show this. in-copy: run in a copy of the
//                  app (for steps that prune node_modules).
//   transform-of   path="src/x.ts": the block is what the transformer makes
//                  of that file of the app.
//   covered-by     path="test/…": the repository's own commands, run by that
//                  test file, which must exist.
//   skip           reason="…": not run; the reason is required.
// Run samples and background lines use the test database, each in a schema
// of its own.

interface Sample {
  line: number;
  lang: string;
  code: string;
  mode: string;
  attrs: Record<string, string>;
  flags: Set<string>;
}

const CODE_LANGS = new Set(["ts", "typescript", "js", "javascript", "mjs"]);
const SH_LANGS = new Set(["sh", "bash", "shell", "console"]);

function parseSamples(markdown: string): Sample[] {
  const lines = markdown.split("\n");
  const samples: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const lang = open[1]!.toLowerCase();
    const marker = /^<!--\s*sample:\s*(\S+)(.*?)-->\s*$/.exec(lines[start - 1] ?? "");
    const attrs: Record<string, string> = {};
    const flags = new Set<string>();
    for (const m of (marker?.[2] ?? "").matchAll(/([\w-]+)(?:="([^"]*)")?/g)) {
      if (m[2] !== undefined) attrs[m[1]!] = m[2];
      else flags.add(m[1]!);
    }
    const mode = marker?.[1] ?? (CODE_LANGS.has(lang) ? "run" : SH_LANGS.has(lang) ? "sh" : "unmarked");
    samples.push({ line: start + 1, lang, code: body.join("\n") + "\n", mode, attrs, flags });
  }
  return samples;
}

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
const samples = parseSamples(readme);

let dir: string;
let app: string;
let tarball: string;
let port = 0;
const background: ChildProcess[] = [];

const npmQuiet = { npm_config_audit: "false", npm_config_fund: "false", npm_config_prefer_offline: "true", npm_config_loglevel: "error" };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "durable-readme-"));
  app = join(dir, "app");
  tarball = packFreshCopy(dir);
  cpSync(join(import.meta.dirname, "readme-app"), app, { recursive: true });
  const install = spawnSync("npm", ["install"], { cwd: app, env: { ...process.env, ...npmQuiet }, encoding: "utf8", timeout: 300_000 });
  if (install.status !== 0) throw new Error(`npm install of the README app failed: ${install.stderr}`);
  port = await freePort();
}, 360_000);

afterAll(() => {
  for (const child of background) stopProcess(child);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function stopProcess(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    /* already gone */
  }
}

const where = (s: Sample) => `README.md:${s.line} (${s.mode})`;

async function runShell(sample: Sample, env: Record<string, string>): Promise<void> {
  const cwd = sample.flags.has("in-copy") ? join(dir, "app-copy") : app;
  if (sample.flags.has("in-copy")) {
    rmSync(cwd, { recursive: true, force: true });
    cpSync(app, cwd, { recursive: true, verbatimSymlinks: true });
  }
  let output = "";
  const mine: ChildProcess[] = [];
  try {
    for (const raw of sample.code.split("\n")) {
      let line = raw.replace(/\s+#.*$/, "").trim();
      if (!line || line.startsWith("#")) continue;
      line = line.replace(/^npm install durable-async$/, `npm install ${tarball}`).replaceAll("localhost:3000", `localhost:${port}`);
      if (line.endsWith("&")) {
        const child = spawn("sh", ["-c", line.slice(0, -1).trim()], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        background.push(child);
        mine.push(child);
        const firstOutput = new Promise<void>((resolve) => {
          const seen = (d: Buffer) => ((output += d), resolve());
          child.stdout!.on("data", seen);
          child.stderr!.on("data", seen);
          child.once("exit", () => resolve());
          setTimeout(resolve, 60_000);
        });
        await firstOutput;
        if (child.exitCode !== null && child.exitCode !== 0) throw new Error(`${where(sample)}: \`${line}\` exited with ${child.exitCode}:\n${output}`);
        continue;
      }
      const result = spawnSync("sh", ["-c", line], { cwd, env, encoding: "utf8", timeout: 300_000 });
      output += `${result.stdout}${result.stderr}`;
      if (result.status !== 0) throw new Error(`${where(sample)}: \`${line}\` exited with ${result.status}:\n${output}`);
    }
    if (sample.attrs.expect) {
      const deadline = Date.now() + 90_000;
      while (!output.includes(sample.attrs.expect) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(output, `${where(sample)} should print "${sample.attrs.expect}"`).toContain(sample.attrs.expect);
    }
    for (const child of mine) {
      if (child.exitCode !== null && child.exitCode !== 0) throw new Error(`${where(sample)}: a background command exited with ${child.exitCode}:\n${output}`);
    }
  } finally {
    for (const child of mine) stopProcess(child);
  }
}

function sampleFile(sample: Sample): string {
  const ext = sample.lang.startsWith("j") || sample.lang === "mjs" ? "mjs" : "ts";
  return join(app, ".samples", `line-${sample.line}.${ext}`);
}

function runModule(sample: Sample, env: Record<string, string>): void {
  const setup = sample.attrs.setup;
  if (setup !== undefined && !(setup in SETUPS)) throw new Error(`${where(sample)}: no setup "${setup}" in test/docs/readme-setups.ts`);
  const file = sampleFile(sample);
  mkdirSync(dirname(file), { recursive: true });
  const stop = `\nconst { durable: __readmeDurable } = await import("durable-async");\nawait __readmeDurable.stop();\nprocess.exit(process.exitCode ?? 0);\n`;
  writeFileSync(file, `${setup ? SETUPS[setup] : ""}${sample.code}${stop}`);
  const result = spawnSync(process.execPath, ["--import", "durable-async/register", file], { cwd: app, env, encoding: "utf8", timeout: 120_000 });
  expect(result.status, `${where(sample)} exited with ${result.status}:\n${result.stdout}${result.stderr}`).toBe(0);
}

describe("README.md", { timeout: 600_000 }, () => {
  it("marks every block it cannot run, and every mark is complete", () => {
    expect(samples.length).toBeGreaterThan(10);
    for (const s of samples) {
      expect(["run", "file", "sh", "transform-of", "covered-by", "skip"], `${where(s)}: unknown or missing mark`).toContain(s.mode);
      if (s.mode === "file" || s.mode === "transform-of" || s.mode === "covered-by") expect(s.attrs.path, `${where(s)} needs path="…"`).toBeTruthy();
      if (s.mode === "covered-by") expect(existsSync(join(repoRoot, s.attrs.path!)), `${where(s)}: ${s.attrs.path} does not exist`).toBe(true);
      if (s.mode === "skip") expect(s.attrs.reason, `${where(s)} needs reason="…"`).toBeTruthy();
    }
  });

  it("runs every sample in order, as a user of the package would", async () => {
    const db = await testDatabase();
    const base = { ...process.env, ...npmQuiet, DATABASE_URL: db.url, PORT: String(port), DURABLE_LOG_LEVEL: "info" } as Record<string, string>;
    const extraSchemas: string[] = [];
    try {
      for (const sample of samples) {
        const schema = `${db.schema}_${sample.line}`;
        extraSchemas.push(schema);
        const env = { ...base, DURABLE_SCHEMA: sample.mode === "sh" && !sample.flags.has("in-copy") ? db.schema : schema };
        if (sample.mode === "file") {
          mkdirSync(dirname(join(app, sample.attrs.path!)), { recursive: true });
          writeFileSync(join(app, sample.attrs.path!), sample.code);
        } else if (sample.mode === "sh") {
          await runShell(sample, env);
        } else if (sample.mode === "run") {
          runModule(sample, env);
        } else if (sample.mode === "transform-of") {
          const source = readFileSync(join(app, sample.attrs.path!), "utf8");
          const out = await transform(join(app, sample.attrs.path!), source, { root: app, typeCheck: false });
          expect(out.code.trim(), `${where(sample)} is not what the transformer makes of ${sample.attrs.path}`).toBe(sample.code.trim());
        }
      }
    } finally {
      for (const schema of extraSchemas) await db.pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    }
  });

  it("type-checks every TypeScript sample with the app's tsconfig", () => {
    const tsc = join(repoRoot, "node_modules", ".bin", "tsc");
    const result = spawnSync(tsc, ["-p", "."], { cwd: app, encoding: "utf8", timeout: 120_000 });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it("links only to files the package ships, and to headings that exist", () => {
    const listing = spawnSync("tar", ["-tzf", tarball], { encoding: "utf8" }).stdout.split("\n").map((f) => f.replace(/^package\//, ""));
    const slugs = (markdown: string) => new Set([...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^\w\s-]/g, "").trim().replace(/\s+/g, "-")));
    for (const [, target] of readme.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [path, anchor] = target!.split("#");
      if (path) expect(listing, `README links to ${path}, which the package does not ship`).toContain(path);
      if (anchor) {
        const text = path ? readFileSync(join(repoRoot, path), "utf8") : readme;
        expect([...slugs(text)], `README links to #${anchor} in ${path || "README.md"}`).toContain(anchor);
      }
    }
  });
});

