// transformer/oxc.ts loads oxc-parser's native binding directly for speed;
// it must find it on supported platforms and parse exactly as oxc-parser's
// own entry point does.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { parseSync as viaEntryPoint } from "oxc-parser";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a build script without type declarations
import { oxcHelpersPlugin } from "../../scripts/bundle-integrations.mjs";
import { repoRoot } from "./apps.js";
import { directBinding, parseSync } from "../../transformer/oxc.js";
import { parse, type Node } from "../../transformer/syntax.js";

const SOURCE = `import type { A } from "a";
export async function f(this: A, x?: number) { const re = /a+/g; const big = 10n; /* c */ return \`\${x}\` as const; }
`;

/**
 * The oxc-parser release whose private modules (src-js/wrap, the visitor
 * keys) transformer/oxc.ts was checked against. After an upgrade: run this
 * file and bench/transform/oxc-load.mjs, then move the pin.
 */
const VERIFIED_OXC_RELEASE = "0.159.0";

describe("oxc loading", () => {
  it("runs against the oxc-parser release its private imports were checked with", () => {
    const installed = JSON.parse(readFileSync(join(repoRoot, "node_modules", "oxc-parser", "package.json"), "utf8")).version;
    expect(installed, "oxc-parser was upgraded: re-check transformer/oxc.ts's private imports, then move VERIFIED_OXC_RELEASE").toBe(VERIFIED_OXC_RELEASE);
  });

  it("finds the platform binding without oxc-parser's probe", () => {
    expect(directBinding()).toBeDefined();
  });

  it("finds it as the shipped bundle, with oxc-parser's helpers bundled in", async () => {
    // The bundle knows the oxc-parser release its helpers came from, and
    // takes the binding directly only when it is that release.
    // Written under the repository so that the bundle's package imports resolve.
    const outfile = join(repoRoot, "node_modules", ".cache", `oxc-bundle-test-${process.pid}.mjs`);
    try {
      const helpers = oxcHelpersPlugin(repoRoot);
      await build({
        entryPoints: [join(repoRoot, "transformer/oxc.ts")], bundle: true, format: "esm", platform: "node", packages: "external",
        plugins: [helpers.plugin], define: { OXC_HELPERS_VERSION: JSON.stringify(helpers.version) }, outfile, logLevel: "silent",
      });
      const bundled = await import(pathToFileURL(outfile).href);
      expect(bundled.directBinding()).toBeDefined();
      const options = { lang: "ts", astType: "js", sourceType: "module", preserveParens: true } as const;
      expect(bundled.parseSync("f.ts", SOURCE, options).program).toEqual(viaEntryPoint("f.ts", SOURCE, options).program);
    } finally {
      rmSync(outfile, { force: true });
    }
  });

  it("parses exactly as oxc-parser's entry point does", () => {
    const options = { lang: "ts", astType: "js", sourceType: "module", preserveParens: true } as const;
    const ours = parseSync("f.ts", SOURCE, options);
    const theirs = viaEntryPoint("f.ts", SOURCE, options);
    expect(ours.program).toEqual(theirs.program);
    expect(ours.comments).toEqual(theirs.comments);
    expect(ours.errors).toEqual(theirs.errors);
  });

  // syntax.ts reads type-only imports off the spans instead of oxc's module
  // record; the record is the reference, on every form TypeScript allows.
  it("marks type-only imports as oxc's module record does", () => {
    const source = [
      `import { type A, type as, type as as B, type as C, type, type D as E, /* c */ type /* d */ F, G } from "x";`,
      `import type H from "y";`,
      `import type from "z";`,
      `import type, { I } from "w";`,
      `import type * as NS from "v";`,
      `import /* c */ type { J, K as L } from "u";`,
      `import typeM from "t";`,
      `import * as N from "s";`,
      `import { type O } from "durable-async";`,
    ].join("\n");
    const record = viaEntryPoint("f.ts", source, { lang: "ts", astType: "js", sourceType: "module" }).module;
    const expected = record.staticImports.flatMap((i) => i.entries.map((e) => [e.localName.value, e.isType]));
    const marked: Array<[string, boolean]> = [];
    for (const statement of parse("f.ts", source).program.body as Node[]) {
      for (const spec of statement.specifiers) marked.push([spec.local.name, spec.importKind === "type" || statement.importKind === "type"]);
    }
    expect(marked).toHaveLength(18);
    expect(marked).toEqual(expected);
  });
});
