import { finiteDate, SHOW_LIMIT, textOf, timeText } from "../reports/index.js";

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

/** Pretty JSON for a <pre>, cut at `limit` characters with a note; escaped by the caller's template. */
export function json(value: unknown, limit = SHOW_LIMIT): string {
  return textOf(value, limit, 2);
}

/** "2m 10s", "3h 5m", "4d 2h": a span for people. */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

export function ago(date: unknown, now = Date.now()): string {
  const d = finiteDate(date);
  if (!d) return date === null || date === undefined ? "" : timeText(date);
  const ms = now - d.getTime();
  const abs = Math.abs(ms);
  const text = abs < 1000 ? `${abs}ms` : abs < 60_000 ? `${Math.round(abs / 1000)}s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)}m` : abs < 86_400_000 ? `${Math.round(abs / 3_600_000)}h` : `${Math.round(abs / 86_400_000)}d`;
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}

/** A timestamp cell: relative time with the exact time on hover; a time that is not on the clock is marked as such. */
export function when(value: unknown): Html {
  if (value === null || value === undefined) return html``;
  const d = finiteDate(value);
  if (!d) return html`<span class="badge bad-value" title="stored time">${timeText(value)}</span>`;
  return html`<time datetime="${d.toISOString()}" title="${d.toISOString()}">${ago(d)}</time>`;
}

/** Progress as stored: a fraction 0..1 from { fraction } or { done, total }; null when it holds neither. */
export function progressFraction(progress: unknown): number | null {
  if (typeof progress !== "object" || progress === null || Array.isArray(progress)) return null;
  const p = progress as { fraction?: unknown; done?: unknown; total?: unknown };
  const f = typeof p.fraction === "number" ? p.fraction : typeof p.total === "number" && p.total !== 0 && typeof p.done === "number" ? p.done / p.total : null;
  return f === null || !Number.isFinite(f) ? null : Math.max(0, Math.min(1, f));
}
