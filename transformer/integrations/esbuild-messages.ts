// Diagnostics as esbuild messages: the user's file, line and column, the
// line's text, and the fix as a note. A file that a build reaches both by an
// import and through discovery reports each diagnostic once.
import { readFileSync } from "node:fs";
import type { PartialMessage } from "esbuild";
import type { Diagnostic } from "../diagnostics.js";

export function toMessage(d: Diagnostic, fileName: string, source: string): PartialMessage {
  const lineText = source.split("\n")[d.line - 1] ?? "";
  return {
    id: d.code,
    text: `${d.code}: ${d.message}`,
    location: { file: fileName, line: d.line, column: d.column - 1, lineText, length: d.name?.length ?? 0 },
    notes: [{ text: `Fix: ${d.fix}.` }],
  };
}

function safeRead(fileName: string): string {
  try {
    return readFileSync(fileName, "utf8");
  } catch {
    return "";
  }
}

/** Errors and warnings of one build, each reported once (cleared when a rebuild starts). */
export class BuildMessages {
  private readonly reported = new Set<string>();

  clear(): void {
    this.reported.clear();
  }

  /** A file's diagnostics as esbuild errors and warnings, leaving out those reported already. */
  of(diagnostics: readonly Diagnostic[], fileName: string): { errors: PartialMessage[]; warnings: PartialMessage[] } {
    const source = diagnostics.length ? safeRead(fileName) : "";
    const errors: PartialMessage[] = [];
    const warnings: PartialMessage[] = [];
    for (const d of diagnostics) {
      const message = toMessage(d, fileName, source);
      const key = `${fileName}:${d.line}:${d.column}:${d.code}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      (d.severity === "error" ? errors : warnings).push(message);
    }
    return { errors, warnings };
  }
}
