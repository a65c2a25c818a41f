// How the Node hook finds TypeScript sources Node alone would not, for
// `import` and `require` alike: tsconfig `paths` aliases (as esbuild and tsx
// follow them) and `.cjs` → `.cts` for `require`. In real child processes;
// needs `npm run build` (uses dist/).
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { makeApp, registerHook, runNode } from "./apps.js";

const REGISTRY = `(globalThis as any)[Symbol.for("durable-async.registry")]`;

describe("Node hook: tsconfig paths", () => {
  it("resolves `paths` aliases (through `extends`, without baseUrl) in the API and in a worker's slice", async () => {
    const root = makeApp("register-paths", {
      // paths without baseUrl are relative to the tsconfig that declares them.
      "config/tsconfig.base.json": `{
  // comments and trailing commas, as tsc allows
  "compilerOptions": {
    "paths": { "@lib/*": ["../src/missing/*", "../src/lib/*"], "@config": ["../src/config/index.ts"], },
  },
}`,
      "tsconfig.json": JSON.stringify({ extends: "./config/tsconfig.base.json", compilerOptions: { strict: true } }),
      "src/lib/helpers.ts": `export const record = (s: string): string => "recorded:" + s;\n`,
      "src/lib/format.ts": `export const format = (n: number): string => "#" + n;\n`,
      "src/config/index.ts": `export const region = "eu";\n`,
      "src/tasks.ts": `import { durable } from "durable-async";
import { record } from "@lib/helpers";
globalThis.tasksTopLevelRan = true;
export function recordJob(name: string) {
  return durable.async(() => record(name));
}
`,
      "src/main.ts": `import { record } from "@lib/helpers";
import { format } from "@lib/format.js";
import { region } from "@config";
const registry = ${REGISTRY};
const id = "src/tasks.ts#recordJob#0";
// As a worker does: load the task module's slice (its entry never imports it) and run the stub.
await registry.lazy.get(id).load();
console.log(JSON.stringify({
  direct: [record("x"), format(7), region],
  fromSlice: [...registry.fromSlice],
  tasksTopLevelRan: Boolean((globalThis as any).tasksTopLevelRan),
  result: await registry.stubs.get(id).run({ name: "ada" }),
}));
`,
    });
    const run = await runNode(["--import", registerHook, "src/main.ts"], root);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trim().split("\n").pop()!)).toEqual({
      direct: ["recorded:x", "#7", "eu"],
      fromSlice: ["src/tasks.ts#recordJob#0"],
      tasksTopLevelRan: false,
      result: "recorded:ada",
    });
  });

  it("uses baseUrl, prefers the longest prefix, and leaves packages the aliases do not name to Node", async () => {
    const root = makeApp("register-paths-baseurl", {
      "tsconfig.json": JSON.stringify({
        compilerOptions: { baseUrl: "./src", paths: { "~/*": ["*"], "~/lib/special": ["lib/special-impl.ts"], "*": ["types/*"] } },
      }),
      "src/lib/helpers.ts": `export const helper = (): string => "helper";\n`,
      "src/lib/special-impl.ts": `export const special = (): string => "special";\n`,
      "src/main.ts": `import { helper } from "~/lib/helpers";
import { special } from "~/lib/special";
import { durable } from "durable-async";
console.log(JSON.stringify([helper(), special(), typeof durable]));
`,
    });
    const run = await runNode(["--import", registerHook, "src/main.ts"], root);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout.trim().split("\n").pop()!)).toEqual(["helper", "special", "object"]);
  });

  it("names the alias and the tsconfig when no target of a matching alias exists", async () => {
    const root = makeApp("register-paths-missing", {
      "tsconfig.json": JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { "@lib/*": ["src/lib/*"], "*": ["types/*"] } } }),
      "src/main.ts": `import { nothing } from "@lib/nothing";\nconsole.log(nothing);\n`,
      "src/typo.ts": `import { x } from "not-a-package";\nconsole.log(x);\n`,
    });
    const run = await runNode(["--import", registerHook, "src/main.ts"], root);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`cannot resolve "@lib/nothing": it matches "@lib/*" in the \`paths\` of ${join(root, "tsconfig.json")}`);
    expect(run.stderr).toContain(join(root, "src/lib/nothing"));
    // A catch-all "*" pattern (there for types) keeps Node's own error for a misspelled package.
    const typo = await runNode(["--import", registerHook, "src/typo.ts"], root);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain("Cannot find package 'not-a-package'");
  });
});

describe("Node hook: require", () => {
  it("maps require of ./x.cjs to x.cts and ./x.js to x.ts, and follows tsconfig paths, in the module and in its slice", async () => {
    const root = makeApp("register-require", {
      "package.json": JSON.stringify({ name: "require-app", private: true }),
      "tsconfig.json": JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { "@lib/*": ["lib/*"] } } }),
      "lib/helpers.cts": `export const twice = (n: number): number => n * 2;\n`,
      "util.ts": `export const label = (s: string): string => "[" + s + "]";\n`,
      "jobs.cts": `const { durable } = require("durable-async");
const { twice } = require("@lib/helpers");
const { label } = require("./util.js");
(globalThis as any).jobsTopLevelRan = true;
function double(n: number) { return durable.async(() => label(String(twice(n)))); }
module.exports = { double };
`,
      "main.cjs": `const { double } = require("./jobs.cjs");
const { twice } = require("@lib/helpers.cjs");
const registry = globalThis[Symbol.for("durable-async.registry")];
const id = "jobs.cts#double#0";
console.log(JSON.stringify({ typeofDouble: typeof double, twice: twice(4), result: registry.stubs.get(id).run({ n: 21 }) }));
`,
      "worker.cjs": `const registry = globalThis[Symbol.for("durable-async.registry")];
const id = "jobs.cts#double#0";
registry.lazy.get(id).load().then(() => {
  console.log(JSON.stringify({ fromSlice: [...registry.fromSlice], jobsTopLevelRan: Boolean(globalThis.jobsTopLevelRan), result: registry.stubs.get(id).run({ n: 5 }) }));
});
`,
    });
    const run = await runNode(["--import", registerHook, "main.cjs"], root);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trim().split("\n").pop()!)).toEqual({ typeofDouble: "function", twice: 8, result: "[42]" });

    const worker = await runNode(["--import", registerHook, "worker.cjs"], root);
    expect(worker.stderr).toBe("");
    expect(JSON.parse(worker.stdout.trim().split("\n").pop()!)).toEqual({ fromSlice: ["jobs.cts#double#0"], jobsTopLevelRan: false, result: "[10]" });
  });
});
