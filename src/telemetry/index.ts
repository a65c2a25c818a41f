import type { DurableEmitter, JobEventInfo } from "../events/index.js";
import { Snooze } from "../outcomes.js";
import { formatTraceparent, parseStoredTrace } from "./traceparent.js";

export { formatTraceparent, parseStoredTrace } from "./traceparent.js";

// Optional OpenTelemetry. @opentelemetry/api is an optional peer dependency:
// it is imported once, dynamically, and every entry point here is a cheap
// no-op when it is absent. With the API present but no SDK registered, the
// API's own no-op tracer and meter make the calls free as well.
//
// The API keeps its registered tracer/meter providers and context manager on
// a globalThis symbol, so this import shares them with whatever copy the
// application registered its SDK through.

type OtelApi = typeof import("@opentelemetry/api");

let api: OtelApi | null = null;
const disabled = /^(1|true|off)$/i.test(process.env.DURABLE_OTEL_DISABLED ?? "");

/** Settles once the optional import has been tried; start() awaits it so the first job is traced. */
export const telemetryReady: Promise<boolean> = disabled
  ? Promise.resolve(false)
  : import("@opentelemetry/api").then(
      (module) => {
        api = (module as { default?: OtelApi }).default && !(module as OtelApi).trace ? (module as { default: OtelApi }).default : (module as OtelApi);
        return true;
      },
      () => false,
    );

export const TRACER_NAME = "durable-async";

/**
 * The active span's context at enqueue time, as the jobs.trace value, or null
 * without OpenTelemetry or outside a sampled span.
 */
export function captureTrace(): string | null {
  if (!api) return null;
  const ctx = api.trace.getSpanContext(api.context.active());
  if (!ctx || !api.trace.isSpanContextValid(ctx)) return null;
  return JSON.stringify({ traceparent: formatTraceparent(ctx) });
}

export interface AttemptSpan {
  /** Runs the closure with the attempt's span active, so spans it creates are its children. */
  run<T>(fn: () => T): T;
  /** Ends the span; an error marks it failed (a Snooze is not a failure). */
  end(error?: unknown): void;
}

const noopSpan: AttemptSpan = { run: (fn) => fn(), end: () => undefined };

/** One span per attempt, linked (not parented) to the span that enqueued the job. */
export function startAttemptSpan(job: JobEventInfo, storedTrace: unknown): AttemptSpan {
  if (!api) return noopSpan;
  const otel = api;
  const parent = parseStoredTrace(storedTrace);
  const attributes: Record<string, string | number> = {
    "messaging.system": "durable-async",
    "messaging.operation.type": "process",
    "messaging.destination.name": job.queue,
    "messaging.message.id": job.id,
    "durable.job.id": job.id,
    "durable.task.id": job.task,
    "durable.job.queue": job.queue,
    "durable.job.attempt": job.attempt,
    "durable.job.max_attempts": job.maxAttempts,
  };
  if (job.caller) {
    attributes["code.filepath"] = job.caller.file;
    attributes["code.lineno"] = job.caller.line;
    attributes["code.column"] = job.caller.column;
    if (job.caller.fn) attributes["code.function"] = job.caller.fn;
  }
  const span = otel.trace.getTracer(TRACER_NAME).startSpan(
    `durable.job ${job.task}`,
    {
      kind: otel.SpanKind.CONSUMER,
      attributes,
      links: parent ? [{ context: { ...parent, isRemote: true }, attributes: { "durable.link": "enqueued_by" } }] : [],
    },
    // A new trace per attempt: the enqueuer's trace may be long finished; the link connects them.
    otel.trace.deleteSpan(otel.context.active()),
  );
  // No SDK registered: the API hands back an invalid no-op span; skip the context switch and its stack frames.
  if (!otel.trace.isSpanContextValid(span.spanContext())) return noopSpan;
  let ended = false;
  return {
    run: (fn) => otel.context.with(otel.trace.setSpan(otel.context.active(), span), fn),
    end(error) {
      if (ended) return;
      ended = true;
      if (error !== undefined && !(error instanceof Snooze)) {
        const e = error instanceof Error ? error : new Error(String(error));
        span.recordException(e);
        span.setStatus({ code: otel.SpanStatusCode.ERROR, message: e.message });
      } else if (error instanceof Snooze) {
        span.addEvent("snoozed", { "durable.snooze_ms": error.delayMs });
      }
      span.end();
    },
  };
}

export interface MetricsSource {
  events: DurableEmitter;
  /** Job counts per queue and state, for the queue depth gauge. */
  depth(): Promise<Array<{ queue: string; state: string; count: number }>>;
}

/**
 * Counters for jobs started, completed and failed, an attempt duration
 * histogram, and queue depth as an observable gauge (read at collection time,
 * at most every 5 s). Returns a function that detaches everything.
 */
export function instrumentMetrics(source: MetricsSource): () => void {
  if (!api) return () => undefined;
  const meter = api.metrics.getMeter(TRACER_NAME);
  const started = meter.createCounter("durable.jobs.started", { description: "Job attempts started" });
  const completed = meter.createCounter("durable.jobs.completed", { description: "Jobs completed" });
  const failed = meter.createCounter("durable.jobs.failed", { description: "Job attempts that ended in error (retryable, discarded or cancelled)" });
  const duration = meter.createHistogram("durable.job.duration", { description: "Attempt duration", unit: "ms" });
  const depth = meter.createObservableGauge("durable.queue.depth", { description: "Jobs waiting or running, per queue and state" });
  const attrs = (job: JobEventInfo) => ({ "durable.job.queue": job.queue, "durable.task.id": job.task });
  const off = [
    source.events.on("job:start", ({ job }) => started.add(1, attrs(job))),
    source.events.on("job:stop", ({ job, durationMs }) => {
      completed.add(1, attrs(job));
      duration.record(durationMs, { ...attrs(job), "durable.job.state": "completed" });
    }),
    source.events.on("job:error", ({ job, state, durationMs }) => {
      if (state === "scheduled") return; // a snooze is neither a success nor a failure
      failed.add(1, { ...attrs(job), "durable.job.state": state });
      duration.record(durationMs, { ...attrs(job), "durable.job.state": state });
    }),
  ];
  let cached: { at: number; rows: Array<{ queue: string; state: string; count: number }> } | null = null;
  const observe = async (result: { observe(value: number, attributes?: Record<string, string>): void }) => {
    if (!cached || Date.now() - cached.at > 5_000) cached = { at: Date.now(), rows: await source.depth().catch(() => cached?.rows ?? []) };
    for (const row of cached.rows) result.observe(row.count, { "durable.job.queue": row.queue, "durable.job.state": row.state });
  };
  depth.addCallback(observe);
  return () => {
    for (const o of off) o();
    depth.removeCallback(observe);
  };
}
