// transformer/oxc.ts loads oxc-parser's native binding directly for speed;
// it must find it on supported platforms and parse exactly as oxc-parser's
// own entry point does.
import { parseSync as viaEntryPoint } from "oxc-parser";
import { describe, expect, it } from "vitest";
import { directBinding, parseSync } from "../../transformer/oxc.js";

const SOURCE = `import type { A } from "a";
export async function f(this: A, x?: number) { const re = /a+/g; const big = 10n; /* c */ return \`\${x}\` as const; }
`;

describe("oxc loading", () => {
  it("finds the platform binding without oxc-parser's probe", () => {
    expect(directBinding()).toBeDefined();
  });

  it("parses exactly as oxc-parser's entry point does", () => {
    const options = { lang: "ts", astType: "js", sourceType: "module", preserveParens: true } as const;
    const ours = parseSync("f.ts", SOURCE, options);
    const theirs = viaEntryPoint("f.ts", SOURCE, options);
    expect(ours.program).toEqual(theirs.program);
    expect(ours.comments).toEqual(theirs.comments);
    expect(ours.module).toEqual(theirs.module);
    expect(ours.errors).toEqual(theirs.errors);
  });
});
