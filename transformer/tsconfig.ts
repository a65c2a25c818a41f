// tsconfig files are JSON with comments and trailing commas.
import { readFileSync } from "node:fs";

/** The parsed file, or undefined when it is missing or does not parse (not ours to report: tsc does). */
export function readJsonc(file: string): unknown {
  try {
    const text = readFileSync(file, "utf8")
      .replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_, string: string | undefined) => string ?? "")
      .replace(/,(\s*[}\]])/g, "$1");
    return JSON.parse(text) ?? undefined;
  } catch {
    return undefined;
  }
}
