// Two files pinning one task name would register two closures under one id,
// and a job of one would run the other's body. `durable check`, the esbuild
// plugin and the Node hook refuse, naming both places; the runtime refuses a
// registry listing one id twice, and a `name` the build could not read.
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { runCheck } from "../../transformer/check.js";
import { durableEsbuild } from "../../transformer/integrations/esbuild.js";
import { __durableModules, __durableTask } from "../../src/tasks/registry.js";
import { CallItems } from "../../src/enqueue/call-item.js";
import { makeApp, registerHook, runNode } from "./apps.js";

const files = {
  "src/one.ts": `import { durable } from "durable-async";
export function one() {
  durable.async(() => "one", { name: "x" });
}
`,
  "src/two.ts": `import { durable } from "durable-async";

export function two() {
  durable.async(() => "two", { name: "x" });
}
`,
  "src/main.ts": `import { durable } from "durable-async";
import { one } from "./one.js";
import { two } from "./two.js";
export const run = () => [one(), two(), durable];
`,
};

describe("duplicate pinned names", () => {
  it("fail durable check with both locations", async () => {
    const root = makeApp("dup-check", files);
    const report = await runCheck([], { root, typeCheck: false });
    const messages = report.files.flatMap((f) => f.diagnostics.filter((d) => d.code === "DA1012").map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`));
    expect(messages).toEqual([
      'src/one.ts:3:3 Task id "x" is also used at src/two.ts:4:3; one id would name two different closures.',
      'src/two.ts:4:3 Task id "x" is also used at src/one.ts:3:3; one id would name two different closures.',
    ]);
    expect(report.errors).toBe(2);
  });

  it("fail an esbuild build with both locations", async () => {
    const root = makeApp("dup-esbuild", files);
    const result = await build({
      entryPoints: [join(root, "src/main.ts")], bundle: true, format: "esm", platform: "node", packages: "external",
      write: false, absWorkingDir: root, plugins: [durableEsbuild({ root })], logLevel: "silent",
    }).catch((error: { errors: Array<{ text: string; location: { file: string; line: number } | null }> }) => error);
    const errors = "errors" in result ? result.errors : [];
    expect(errors.map((e) => `${e.location?.file.replace(`${root}/`, "")}:${e.location?.line} ${e.text.slice(0, e.text.indexOf(";") + 1)}`)).toEqual([
      'src/one.ts:3 DA1012: Task id "x" is also used at src/two.ts:4:3;',
      'src/two.ts:4 DA1012: Task id "x" is also used at src/one.ts:3:3;',
    ]);
  });

  it("stop the Node hook at start with both locations", async () => {
    const root = makeApp("dup-hook", files);
    const run = await runNode(["--import", registerHook, "src/main.ts"], root);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('src/one.ts:3:3 error DA1012: Task id "x" is also used at src/two.ts:4:3');
    expect(run.stderr).toContain('src/two.ts:4:3 error DA1012: Task id "x" is also used at src/one.ts:3:3');
  });

  it("make a registry that lists one id twice refuse to start", () => {
    const task = (hash: string, line: number) => ({
      id: "dup-registry", hash, caller: { file: `src/${hash}.ts`, fn: null, line, column: 1 }, source: "() => 1", captures: [], kind: "async" as const,
    });
    const load = () => Promise.resolve();
    expect(() => __durableModules([{ tasks: [task("aaaa", 1)], load }, { tasks: [task("bbbb", 2)], load }]))
      .toThrow(expect.objectContaining({ code: "DURABLE_DUPLICATE_TASK", message: expect.stringMatching(/src\/aaaa\.ts:1.*src\/bbbb\.ts:2/s) }));
  });
});

describe("a name the build could not read", () => {
  it("is refused at run time, naming the fix", () => {
    const stub = __durableTask({
      id: "src/a.ts#f#0", hash: "cccc", caller: { file: "src/a.ts", fn: "f", line: 1, column: 1 }, source: "() => 1", captures: [], kind: "async", run: () => 1,
    });
    const items = new CallItems({ defaultMaxAttempts: 3, defaultTimeoutMs: 60_000, knownNodeTypes: ["worker"] });
    const options: Record<string, unknown> = { name: "pinned" };
    expect(() => items.item("async", stub, {}, options)).toThrow(/got the name "pinned" at run time, but its task id is "src\/a\.ts#f#0".*Write \{ name: "pinned" \} in the call/);
    expect(items.item("async", stub, {}, { maxAttempts: 2 }).stub).toBe(stub);
    expect(items.item("async", stub, {}, { name: "src/a.ts#f#0" }).stub).toBe(stub);
  });
});
