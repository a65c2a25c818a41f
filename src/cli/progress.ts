import { bar } from "./table.js";

// Bulk operations draw a bar on stderr when it is a terminal, and stay silent
// otherwise, so piped output and CI logs hold only the final summary.

export interface ProgressReporter {
  update(done: number): void;
  finish(): void;
}

export function progressReporter(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!stream.isTTY || total <= 0) return { update() {}, finish() {} };
  let last = 0;
  const draw = (done: number) => stream.write(`\r${label} ${bar(done / total, 30)} ${done}/${total}`);
  draw(0);
  return {
    update(done) {
      // Redrawing more than ~20 times a second only costs time.
      if (Date.now() - last < 50 && done < total) return;
      last = Date.now();
      draw(Math.min(done, total));
    },
    finish() {
      stream.write("\r\x1b[2K");
    },
  };
}
