// Problems only esbuild finds (a symbol declared twice: the parser the
// analysis uses does not check scopes) are reported at the user's line and
// column, never at a line of the rewritten code, through the esbuild plugin
// and the Node hook alike.
import { join } from "node:path";
import { build, type Message } from "esbuild";
import { describe, expect, it } from "vitest";
import { durableEsbuild } from "../../transformer/integrations/esbuild.js";
import { makeApp, registerHook, runNode } from "./apps.js";

const files = {
  "src/main.ts": `import { durable } from "durable-async";
export function f(x: number) {
  durable.async(() => x);
  let a = 1;
  let a = 2;
  return a;
}
f(1);
`,
};

describe("esbuild errors in a transformed module", () => {
  it("point at the user's line through the esbuild plugin, with or without source maps", async () => {
    for (const sourcemap of [true, false]) {
      const root = makeApp("mapped-esbuild", files);
      const failure = await build({
        entryPoints: [join(root, "src/main.ts")], bundle: true, format: "esm", platform: "node", packages: "external",
        write: false, absWorkingDir: root, sourcemap, plugins: [durableEsbuild({ root })], logLevel: "silent",
      }).catch((error: { errors: Message[] }) => error);
      const errors = "errors" in failure ? failure.errors : [];
      expect(errors.map((e) => [e.text, e.location?.file, e.location?.line, e.location?.column, e.location?.lineText])).toEqual([
        ['The symbol "a" has already been declared', "src/main.ts", 5, 6, "  let a = 2;"],
      ]);
      expect(errors[0]!.notes.map((n) => [n.location?.line, n.location?.lineText])).toEqual([[4, "  let a = 1;"]]);
    }
  });

  it("point at the user's line through the Node hook", async () => {
    const root = makeApp("mapped-hook", files);
    const run = await runNode(["--import", registerHook, "src/main.ts"], root);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`${join(root, "src/main.ts")}:5:7: ERROR: The symbol "a" has already been declared`);
  });
});
