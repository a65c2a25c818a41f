// W3C trace context in its text form. The enqueuer's span is stored with the
// job as {"traceparent": "00-<trace>-<span>-<flags>"}, a format any tracer
// (and any other language reading the table) understands.

export interface SpanContextLike {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function formatTraceparent(ctx: SpanContextLike): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** Reads the stored trace column; anything malformed is ignored (it is data, not a reason to fail a job). */
export function parseStoredTrace(stored: unknown): SpanContextLike | null {
  const text = stored && typeof stored === "object" ? (stored as { traceparent?: unknown }).traceparent : typeof stored === "string" ? stored : null;
  if (typeof text !== "string") return null;
  const m = TRACEPARENT.exec(text.trim());
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return null;
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true };
}
