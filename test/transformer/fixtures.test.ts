// Golden fixtures are the transformer's spec: each case is an input file and
// either the expected output (`output.ts`) or the expected diagnostics
// (`diagnostics.txt`), or both when a case only warns. They run through
// TransformSession, the path every integration takes, with the capture type
// check on (as `durable check` runs it).
// Regenerate with `UPDATE_FIXTURES=1 npx vitest run test/transformer`.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createProject, formatDiagnostic, hasErrors, TransformSession } from "../../transformer/index.js";

const fixturesDir = join(import.meta.dirname, "fixtures");
const update = process.env.UPDATE_FIXTURES === "1";
const project = createProject({ root: fixturesDir });

function expectFile(path: string, actual: string | undefined): void {
  if (update) {
    if (actual === undefined) rmSync(path, { force: true });
    else writeFileSync(path, actual);
    return;
  }
  const expected = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  expect(actual, path).toBe(expected);
}

const cases = readdirSync(fixturesDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

describe("transformer fixtures", () => {
  it("has at least 40 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  for (const name of cases) {
    it(name, async () => {
      const dir = join(fixturesDir, name);
      const inputName = readdirSync(dir).find((f) => f.startsWith("input."))!;
      const input = readFileSync(join(dir, inputName), "utf8");
      const session = new TransformSession({ project, root: dir, typeCheck: true, nodeTypes: ["worker", "api", "datasync"] });
      const result = await session.transform(join(dir, inputName), input);
      const diagnostics = result.diagnostics.map(formatDiagnostic).join("\n");
      expectFile(join(dir, "diagnostics.txt"), diagnostics ? `${diagnostics}\n` : undefined);
      expectFile(join(dir, inputName.replace("input.", "output.")), hasErrors(result.diagnostics) ? undefined : result.code);
    });
  }
});
