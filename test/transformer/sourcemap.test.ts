// The rewrite's hand-written source-map writer (transformer/sourcemap.ts),
// decoded with @jridgewell/trace-mapping: every segment must point from a
// token of the output at the same token of the input, every token the
// rewrite copied must have one, and the small decoder that maps esbuild's
// errors back must agree with trace-mapping.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodedMappings, GREATEST_LOWER_BOUND, originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import { describe, expect, it } from "vitest";
import { analyze } from "../../transformer/analyze.js";
import { hasErrors } from "../../transformer/diagnostics.js";
import { rewrite } from "../../transformer/rewrite.js";
import { originalPosition } from "../../transformer/sourcemap.js";

const fixturesDir = join(import.meta.dirname, "fixtures");
const inputs = readdirSync(fixturesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(fixturesDir, d.name)).filter((f) => f.startsWith("input.")).map((f) => join(fixturesDir, d.name, f)));

/** The token starting at `column` of `line`: a run of word characters, or one other character. */
function tokenAt(line: string, column: number): string {
  return /^(?:[0-9A-Za-z_$\u0080-\uffff]+|[^ \t\r])/.exec(line.slice(column))?.[0] ?? "";
}

function rewritten(fileName: string, source = readFileSync(fileName, "utf8")) {
  const analysis = analyze(fileName, source, { root: fixturesDir });
  if (analysis.callSites.length === 0 || hasErrors(analysis.diagnostics)) return undefined;
  const { code, map } = rewrite(source, analysis);
  return { source, code, map: map! };
}

describe("source maps", () => {
  it("map every segment to the same token in the original", () => {
    let checked = 0;
    for (const fileName of inputs) {
      const out = rewritten(fileName);
      if (!out) continue;
      const originalLines = out.source.split("\n");
      const generatedLines = out.code.split("\n");
      const decoded = decodedMappings(new TraceMap(out.map as never));
      expect(decoded.length, fileName).toBe(generatedLines.length);
      decoded.forEach((segments, line) => {
        for (const [column, , originalLine, originalColumn] of segments as number[][]) {
          const generated = tokenAt(generatedLines[line]!, column!);
          expect(generated, `${fileName} ${line + 1}:${column}`).not.toBe("");
          expect(generated, `${fileName} ${line + 1}:${column}`).toBe(tokenAt(originalLines[originalLine!]!, originalColumn!));
          checked++;
        }
      });
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it("give every copied token of a closure a segment, in its stub", () => {
    const source = `import { durable } from "durable-async";\nexport function f(a: number) {\n  durable.async(() => {\n    return a   +\n      1;\n  });\n}\n`;
    const out = rewritten("/virtual/f.ts", source)!;
    const trace = new TraceMap(out.map as never);
    const generatedLines = out.code.split("\n");
    const stubLine = generatedLines.findIndex((l) => l.includes("run: () => {") || l.includes("run: ({ a }) => {"));
    expect(stubLine).toBeGreaterThan(0);
    const returnLine = stubLine + 1;
    const column = generatedLines[returnLine]!.indexOf("return");
    expect(originalPositionFor(trace, { line: returnLine + 1, column })).toMatchObject({ line: 4, column: 4 });
    const plus = generatedLines[returnLine]!.indexOf("+");
    expect(originalPositionFor(trace, { line: returnLine + 1, column: plus })).toMatchObject({ line: 4, column: 15 });
  });

  it("decodes positions as trace-mapping does", () => {
    for (const fileName of inputs.slice(0, 40)) {
      const out = rewritten(fileName);
      if (!out) continue;
      const trace = new TraceMap(out.map as never);
      const lines = out.code.split("\n");
      for (let line = 1; line <= lines.length; line++) {
        for (let column = 0; column <= lines[line - 1]!.length; column += 3) {
          const theirs = originalPositionFor(trace, { line, column, bias: GREATEST_LOWER_BOUND });
          const ours = originalPosition(out.map.mappings, line, column);
          // Ours also looks back to earlier lines where a line starts with generated text.
          if (theirs.line !== null) expect(ours, `${fileName} ${line}:${column}`).toEqual({ line: theirs.line, column: theirs.column });
        }
      }
    }
  });
});
