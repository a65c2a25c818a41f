// Every page is built with the `html` tag: interpolated values are escaped
// unless wrapped in `raw()` or produced by another `html` template. Job data
// (meta, captures, errors, source) is user data, so escaping is the default
// and opting out is visible in review.

const RAW = Symbol("durable.html.raw");

export interface Html {
  readonly [RAW]: string;
  toString(): string;
}

export function raw(text: string): Html {
  return { [RAW]: text, toString: () => text };
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

export function escape(value: unknown): string {
  return String(value ?? "").replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  if (typeof value === "object" && RAW in (value as object)) return (value as Html)[RAW];
  return escape(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return raw(out);
}

/** Pretty JSON for a <pre>; escaped by the caller's template. */
export function json(value: unknown): string {
  try {
    return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2) ?? "undefined";
  } catch {
    return String(value);
  }
}

export function ago(date: Date | string | null | undefined, now = Date.now()): string {
  if (!date) return "";
  const ms = now - new Date(date).getTime();
  const abs = Math.abs(ms);
  const text = abs < 1000 ? `${abs}ms` : abs < 60_000 ? `${Math.round(abs / 1000)}s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)}m` : abs < 86_400_000 ? `${Math.round(abs / 3_600_000)}h` : `${Math.round(abs / 86_400_000)}d`;
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}

export function progressFraction(progress: { fraction?: number; done?: number; total?: number } | null | undefined): number | null {
  if (!progress) return null;
  const f = typeof progress.fraction === "number" ? progress.fraction : progress.total ? (progress.done ?? 0) / progress.total : null;
  return f === null || !Number.isFinite(f) ? null : Math.max(0, Math.min(1, f));
}
