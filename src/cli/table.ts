import { timeText } from "../reports/index.js";
import { terminalSafe } from "./safe-text.js";

// Aligned plain-text tables for list commands. Widths come from the content
// (capped, so one long error message cannot push every column off screen).

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  align?: "left" | "right";
  max?: number;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return timeText(value).replace(/\.\d{3}Z$/, "Z");
  return terminalSafe(String(value).replace(/\s+/g, " "));
}

export function formatTable<T>(columns: Column<T>[], rows: T[]): string {
  const cells = rows.map((row) =>
    columns.map((c) => {
      const text = cell(c.value(row));
      const max = c.max ?? 60;
      return text.length > max ? text.slice(0, max - 1) + "…" : text;
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values.map((v, i) => (columns[i]!.align === "right" ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join("\n") + "\n";
}

export function printTable<T>(columns: Column<T>[], rows: T[], empty = "(none)"): void {
  process.stdout.write(rows.length ? formatTable(columns, rows) : empty + "\n");
}

/** A text progress bar: [#####-----] 50%. */
export function bar(fraction: number, width = 20): string {
  const f = Math.max(0, Math.min(1, fraction));
  const filled = Math.round(f * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.round(f * 100)}%`;
}
