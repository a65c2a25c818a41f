// No imports: errors.ts formats durations too, and must not import back into config.
const FORMAT_UNITS: Array<[string, number]> = [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]];

/**
 * Milliseconds written the way a user writes a duration, and parseDuration
 * reads back: 5400000 → "1h30m", 90000 → "1m30s", 1500 → "1s500ms", 0 → "0ms".
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return "0ms";
  let text = "";
  for (const [unit, size] of FORMAT_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) text += `${n}${unit}`;
    rest -= n * size;
  }
  return ms < 0 ? `-${text}` : text;
}
