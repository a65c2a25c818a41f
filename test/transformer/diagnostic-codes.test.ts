// `durable check --json` prints diagnostic codes; users look them up in
// docs/INTERNALS.md. Every code the transformer can emit is in its table,
// with the severity it is emitted with, and the table lists no code that
// does not exist.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CODES } from "../../transformer/index.js";

const internals = readFileSync(join(import.meta.dirname, "..", "..", "docs", "INTERNALS.md"), "utf8");
const rows = new Map([...internals.matchAll(/^\| (DA\d{4}) \| (error|warning) \|/gm)].map((m) => [m[1]!, m[2]!]));

describe("diagnostic codes", () => {
  it("documents every code in docs/INTERNALS.md with its severity", () => {
    const documented = Object.fromEntries(Object.keys(CODES).map((code) => [code, rows.get(code)]));
    const expected = Object.fromEntries(Object.entries(CODES).map(([code, info]) => [code, info.severity]));
    expect(documented).toEqual(expected);
  });

  it("documents no code the transformer does not have", () => {
    expect([...rows.keys()].filter((code) => !(code in CODES))).toEqual([]);
  });
});
