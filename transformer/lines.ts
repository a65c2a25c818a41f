// Line starts and offset → line lookups, shared by diagnostics (TypeScript's
// line breaks) and source maps (\n only, as the map format counts lines).

/** Offsets where each line starts; `breaks` must be a global regex of the line terminators. */
export function lineStarts(text: string, breaks: RegExp): number[] {
  const starts = [0];
  breaks.lastIndex = 0;
  for (let m = breaks.exec(text); m; m = breaks.exec(text)) starts.push(m.index + m[0].length);
  return starts;
}

/** 0-based line holding `offset`, by binary search over `starts`. */
export function lineAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
