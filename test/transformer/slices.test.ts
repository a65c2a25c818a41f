// Golden fixtures of worker-side slices: each case is an input module and
// `slice.txt`, the slice a worker loads instead of it ("mode: module" when the
// module is its own slice), with `diagnostics.txt` for what `durable check`
// reports about it (DA4xxx). Regenerate with
// `UPDATE_FIXTURES=1 npx vitest run test/transformer/slices.test.ts`.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../transformer/diagnostics.js";
import { TransformSession } from "../../transformer/session.js";

const fixturesDir = join(import.meta.dirname, "slices", "fixtures");
const update = process.env.UPDATE_FIXTURES === "1";

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

describe("worker-side slice fixtures", () => {
  for (const name of cases) {
    it(name, async () => {
      const dir = join(fixturesDir, name);
      const inputName = readdirSync(dir).find((f) => f.startsWith("input."))!;
      const session = new TransformSession({ root: dir, sourceMaps: false, sliceDiagnostics: true });
      const result = await session.transform(join(dir, inputName), readFileSync(join(dir, inputName), "utf8"));
      const diagnostics = result.diagnostics.map(formatDiagnostic).join("\n");
      expectFile(join(dir, "diagnostics.txt"), diagnostics ? `${diagnostics}\n` : undefined);
      const head = `mode: ${result.slice ? "slice" : "module"}\ncron: ${result.cron ? "yes" : "no"}\n`;
      expectFile(join(dir, "slice.txt"), result.slice ? `${head}\n${result.slice.code}` : head);
    });
  }
});
