// The Node hook, in a real child process:
// `node --import durable-async/register app.ts` runs TypeScript directly,
// transformed, with stack traces on original lines and every stub module of
// the project registered at start. Needs `npm run build` (uses dist/).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeApp, REGISTRY_PROBE, registerHook, runNode } from "./apps.js";

const app = {
  "src/main.ts": `import { durable } from "durable-async";
import { shout, knownTaskIds } from "./util.js";

interface Order { id: number; total: number }

export function charge(order: Order): unknown {
  return durable.async(() => shout(String(order.id)));
}

function fail(): never {
  throw new Error("boom from line 11");
}

let stackLine = "";
try { fail(); } catch (error) { stackLine = (error as Error).stack!.split("\\n")[1]!.trim(); }
console.log(JSON.stringify({ ids: knownTaskIds(), stackLine, typeofCharge: typeof charge }));
`,
  "src/util.ts": `export const shout = (s: string): string => s.toUpperCase();\n${REGISTRY_PROBE}`,
  "src/jobs/cleanup.ts": `import { durable } from "durable-async";
export function cleanup(days: number) {
  durable.async(() => console.log("cleanup", days));
}
`,
};

describe("Node register hook", () => {
  it("runs TypeScript with call sites transformed and registers every stub module", async () => {
    expect(existsSync(registerHook), "run `npm run build` first").toBe(true);
    const root = makeApp("register", app);
    const run = await runNode(["--import", registerHook, "src/main.ts"], root);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout.trim().split("\n").pop()!);
    expect(out.ids).toEqual(["src/jobs/cleanup.ts#cleanup#0", "src/main.ts#charge#0"]);
    expect(out.stackLine).toBe(`at fail (${join(root, "src/main.ts")}:11:9)`);
    // The analysis is cached by content hash; a second start reuses it.
    expect(readdirSync(join(root, ".durable", "cache")).length).toBeGreaterThanOrEqual(2);
    const again = await runNode(["--import", registerHook, "src/main.ts"], root);
    expect(JSON.parse(again.stdout.trim().split("\n").pop()!).ids).toEqual(out.ids);
  });

  it("fails loudly with the diagnostic when a module has transform errors", async () => {
    const root = makeApp("register-errors", {
      "src/main.ts": `import { durable } from "durable-async";
export function go(id: string) {
  durable.async((x: string) => console.log(id, x));
}
go("a");
`,
    });
    const run = await runNode(["--import", registerHook, "src/main.ts"], root);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("src/main.ts:3:18 error DA1004");
  });

  it("transforms CommonJS too: a .cjs entry, required .cjs and .cts modules, and their slices", async () => {
    const root = makeApp("register-cjs", {
      "package.json": JSON.stringify({ name: "cjs-app", private: true }),
      "main.cjs": `const { durable } = require("durable-async");
const { charge } = require("./billing.cts");
const { legacy } = require("./legacy.ts");
const registry = globalThis[Symbol.for("durable-async.registry")];
function ping(n) { return durable.async(() => n + 1); }
const lazy = registry.lazy.get("jobs/report.cjs#report#0");
lazy.load().then(() => {
  const stub = registry.stubs.get("jobs/report.cjs#report#0");
  console.log(JSON.stringify({
    ids: [...registry.metadata.keys()].sort(),
    loaded: [...registry.stubs.keys()].sort(),
    fromSlice: [...registry.fromSlice],
    reportTopLevelRan: Boolean(globalThis.reportTopLevelRan),
    result: stub.run({ day: "mon" }),
    typeofCharge: typeof charge,
    typeofLegacy: typeof legacy,
    typeofPing: typeof ping,
  }));
});
`,
      "billing.cts": `const { durable } = require("durable-async");
interface Order { id: number }
export function charge(order: Order) {
  return durable.async(() => order.id * 100);
}
`,
      "legacy.ts": `const { durable } = require("durable-async");
const rate: number = 2;
function legacy(n: number) { return durable.async(() => n * rate); }
module.exports = { legacy };
`,
      "jobs/report.cjs": `const { durable } = require("durable-async");
globalThis.reportTopLevelRan = true;
const label = "report";
function report(day) { return durable.async(() => label + ":" + day); }
module.exports = { report };
`,
    });
    const run = await runNode(["--import", registerHook, "main.cjs"], root);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split("\n").pop()!);
    expect(out.ids).toEqual(["billing.cts#charge#0", "jobs/report.cjs#report#0", "legacy.ts#legacy#0", "main.cjs#ping#0"]);
    expect(out.loaded).toEqual(["billing.cts#charge#0", "jobs/report.cjs#report#0", "legacy.ts#legacy#0", "main.cjs#ping#0"]);
    expect(out.fromSlice).toEqual(["jobs/report.cjs#report#0"]);
    expect(out.reportTopLevelRan).toBe(false);
    expect(out.result).toBe("report:mon");
    expect(out.typeofCharge).toBe("function");
    expect(out.typeofLegacy).toBe("function");
  });
});
