// The project root, found from the files: what every process of a codebase
// agrees on (task ids, the discovery scan, the embedded database's folder),
// whichever folder it was started from.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { clearProjectRootCache, processProjectRoot, projectRootFrom, projectRootOf, ROOT_ENV } from "../../src/contract/project-root.js";

function tree(files: Record<string, string>): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "durable-root-")));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const pkg = (fields: Record<string, unknown>) => JSON.stringify(fields);

beforeEach(() => clearProjectRootCache());
afterEach(() => {
  delete process.env[ROOT_ENV];
  clearProjectRootCache();
});

describe("project root", () => {
  it("is the nearest package.json above a file, from any depth", () => {
    const dir = tree({ "app/package.json": pkg({ name: "app" }), "app/src/jobs/a.ts": "", "app/b.ts": "" });
    expect(projectRootOf(join(dir, "app/src/jobs/a.ts"))).toBe(join(dir, "app"));
    expect(projectRootOf(join(dir, "app/b.ts"))).toBe(join(dir, "app"));
    expect(projectRootFrom(join(dir, "app/src"))).toBe(join(dir, "app"));
  });

  it("passes over package.json files that only mark a module format (dist/, dist/esm/)", () => {
    const dir = tree({
      "package.json": pkg({ name: "app", dependencies: { "durable-async": "*" } }),
      "dist/package.json": pkg({ type: "module" }),
      "dist/cjs/package.json": pkg({ type: "commonjs", sideEffects: false }),
      "dist/worker.mjs": "",
      "dist/cjs/worker.js": "",
    });
    expect(projectRootOf(join(dir, "dist/worker.mjs"))).toBe(dir);
    expect(projectRootOf(join(dir, "dist/cjs/worker.js"))).toBe(dir);
  });

  it("is the workspace root for a package the workspace lists (npm/yarn arrays, yarn objects, pnpm)", () => {
    const npm = tree({
      "package.json": pkg({ name: "mono", private: true, workspaces: ["packages/*", "apps/**", "!packages/excluded"] }),
      "packages/api/package.json": pkg({ name: "@mono/api" }),
      "packages/api/src/routes.ts": "",
      "apps/web/server/package.json": pkg({ name: "web-server" }),
      "apps/web/server/index.ts": "",
      "packages/excluded/package.json": pkg({ name: "excluded" }),
      "packages/excluded/x.ts": "",
      "packages/api/test/fixture-app/package.json": pkg({ name: "fixture" }),
      "packages/api/test/fixture-app/x.ts": "",
    });
    expect(projectRootOf(join(npm, "packages/api/src/routes.ts"))).toBe(npm);
    expect(projectRootOf(join(npm, "apps/web/server/index.ts"))).toBe(npm);
    expect(projectRootOf(join(npm, "packages/excluded/x.ts"))).toBe(join(npm, "packages/excluded"));
    // A package nested inside a member but not listed itself stays its own project.
    expect(projectRootOf(join(npm, "packages/api/test/fixture-app/x.ts"))).toBe(join(npm, "packages/api/test/fixture-app"));

    const yarn = tree({ "package.json": pkg({ name: "y", workspaces: { packages: ["libs/*"] } }), "libs/a/package.json": pkg({ name: "a" }), "libs/a/i.ts": "" });
    expect(projectRootOf(join(yarn, "libs/a/i.ts"))).toBe(yarn);

    const pnpm = tree({
      "package.json": pkg({ name: "p" }),
      "pnpm-workspace.yaml": "packages:\n  - 'services/*'\n  - \"tools/cli\" # the CLI\nonlyBuiltDependencies:\n  - esbuild\n",
      "services/mail/package.json": pkg({ name: "mail" }),
      "services/mail/src/send.ts": "",
      "tools/cli/package.json": pkg({ name: "cli" }),
      "tools/cli/main.ts": "",
      "esbuild/package.json": pkg({ name: "not-a-member" }),
      "esbuild/x.ts": "",
    });
    expect(projectRootOf(join(pnpm, "services/mail/src/send.ts"))).toBe(pnpm);
    expect(projectRootOf(join(pnpm, "tools/cli/main.ts"))).toBe(pnpm);
    expect(projectRootOf(join(pnpm, "esbuild/x.ts"))).toBe(join(pnpm, "esbuild"));
  });

  it("without any package.json: the nearest folder with node_modules, else the file's folder", () => {
    const dir = tree({ "node_modules/.keep": "", "src/deep/a.ts": "" });
    expect(projectRootOf(join(dir, "src/deep/a.ts"))).toBe(dir);
  });

  it("DURABLE_ROOT wins over everything found on disk", () => {
    const dir = tree({ "app/package.json": pkg({ name: "app" }), "app/src/a.ts": "" });
    process.env[ROOT_ENV] = join(dir, "app/src");
    expect(projectRootOf(join(dir, "app/src/a.ts"))).toBe(join(dir, "app/src"));
    expect(processProjectRoot()).toBe(join(dir, "app/src"));
  });

  it("for a process: found from its main script, not its working directory (unless the script is a tool in node_modules)", () => {
    const dir = tree({
      "app/package.json": pkg({ name: "app" }),
      "app/out/package.json": pkg({ type: "module" }),
      "app/out/worker.mjs": "",
      "other/package.json": pkg({ name: "other" }),
      "app/node_modules/.bin/durable": "",
    });
    const argv = process.argv[1];
    const cwd = process.cwd();
    try {
      process.chdir(join(dir, "other"));
      process.argv[1] = join(dir, "app/out/worker.mjs");
      expect(processProjectRoot()).toBe(join(dir, "app"));
      process.argv[1] = join(dir, "app/node_modules/.bin/durable");
      expect(processProjectRoot()).toBe(join(dir, "other"));
    } finally {
      process.argv[1] = argv!;
      process.chdir(cwd);
    }
  });
});
