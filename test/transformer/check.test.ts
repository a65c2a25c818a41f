// `durable check`: every call site with id and captures, diagnostics, JSON,
// and exit code 1 on errors (through the real CLI binary).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatCheckReport, runCheck } from "../../transformer/check.js";
import { makeApp, repoRoot, runNode } from "./apps.js";

const files = {
  "src/users.ts": `import { durable } from "durable-async";
export function register(user: { id: number; email: string }) {
  durable.async(() => console.log(user.email, user.id));
}
`,
  "src/bad.ts": `import { durable } from "durable-async";
export function go(cb: () => void, payload: any) {
  durable.async(() => { cb(); return payload; });
}
`,
  "src/plain.ts": `export const unrelated = 1;\n`,
};

describe("durable check", () => {
  it("lists call sites with ids, captures and diagnostics", async () => {
    const root = makeApp("check", files);
    const report = await runCheck([], { root });
    expect(report.files.map((f) => f.file)).toEqual(["src/bad.ts", "src/users.ts"]);
    expect(report.files[1]!.callSites).toEqual([
      expect.objectContaining({ id: "src/users.ts#register#0", kind: "async", captures: ["user"], caller: { file: "src/users.ts", fn: "register", line: 3, column: 3 } }),
    ]);
    expect(report.errors).toBe(1);
    expect(report.warnings).toBe(1);
    const text = formatCheckReport(report);
    expect(text).toContain("src/bad.ts:3:25 error DA2001: Captured value `captures.cb` is a function.");
    expect(text).toContain("src/bad.ts:3:38 warning DA3001");
    expect(text).toContain("3:3  durable.async  src/users.ts#register#0");
  });

  it("exits 1 on errors and prints JSON with --json", async () => {
    const root = makeApp("check-cli", files);
    const bin = join(repoRoot, "dist/src/cli/bin.js");
    const failing = await runNode([bin, "check", "--json"], root);
    expect(failing.code, failing.stderr).toBe(1);
    expect(failing.stderr).toBe("");
    expect(JSON.parse(failing.stdout).errors).toBe(1);
    const passing = await runNode([bin, "check", "src/users.ts"], root);
    expect(passing.code).toBe(0);
    expect(passing.stdout).toContain("1 call site(s), 0 error(s), 0 warning(s)");
  });

  it("durable build writes the manifest of every task", async () => {
    const root = makeApp("build-cli", { "src/users.ts": files["src/users.ts"], "src/plain.ts": files["src/plain.ts"] });
    const run = await runNode([join(repoRoot, "dist/src/cli/bin.js"), "build"], root);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Wrote 1 task(s) from 1 module(s)");
    const manifest = JSON.parse(readFileSync(join(root, ".durable/manifest.json"), "utf8"));
    expect(manifest.modules).toEqual([
      { file: "src/users.ts", tasks: [expect.objectContaining({ id: "src/users.ts#register#0", captures: ["user"], kind: "async" })] },
    ]);
  });

  it("gives the same ids from any folder, and names what a worker-side slice runs (DA4001)", async () => {
    const root = makeApp("check-cwd", {
      "src/users.ts": files["src/users.ts"],
      "src/server.ts": `import { createServer } from "node:http";
import { durable } from "durable-async";
const server = createServer();
server.listen(0);
export function status(id: string) {
  durable.async(() => ({ id, listening: server.listening }));
}
`,
    });
    const bin = join(repoRoot, "dist/src/cli/bin.js");
    const fromRoot = await runNode([bin, "check", "--json"], root);
    const fromSrc = await runNode([bin, "check", "--json"], join(root, "src"));
    const ids = (run: { stdout: string }) => JSON.parse(run.stdout).files.flatMap((f: { callSites: { id: string }[] }) => f.callSites.map((c) => c.id));
    expect(ids(fromRoot)).toEqual(["src/server.ts#status#0", "src/users.ts#register#0"]);
    expect(ids(fromSrc)).toEqual(ids(fromRoot));
    const report = JSON.parse(fromRoot.stdout);
    const codes = report.files.flatMap((f: { diagnostics: { code: string; line: number; name?: string }[] }) => f.diagnostics.map((d) => `${d.code}:${d.line}:${d.name}`));
    expect(codes).toEqual(["DA4001:3:server", "DA4002:4:undefined"]);
  });
});
