import { AsyncLocalStorage } from "node:async_hooks";
import { context, metrics, trace, ROOT_CONTEXT, type Context, type ContextManager, type Meter, type MeterProvider } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import * as telemetryTasks from "../support/telemetry-tasks.mjs";

/** A minimal AsyncLocalStorage context manager, so active spans follow awaits (the SDK's lives in another package). */
class AlsContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== "function") return target;
    return ((...args: unknown[]) => this.with(ctx, () => (target as (...a: unknown[]) => unknown)(...args))) as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

/** Records what the instrumentation reports (the metrics SDK is not a dependency; the API's provider hook is enough). */
const recorded: Array<{ name: string; value: number; attributes: Record<string, unknown> }> = [];
const gauges = new Map<string, Array<(result: { observe(value: number, attributes?: Record<string, unknown>): void }) => unknown>>();
const recordingMeter = {
  createCounter: (name: string) => ({ add: (value: number, attributes = {}) => recorded.push({ name, value, attributes }) }),
  createHistogram: (name: string) => ({ record: (value: number, attributes = {}) => recorded.push({ name, value, attributes }) }),
  createObservableGauge: (name: string) => ({
    addCallback: (cb: any) => gauges.set(name, [...(gauges.get(name) ?? []), cb]),
    removeCallback: (cb: any) => gauges.set(name, (gauges.get(name) ?? []).filter((c) => c !== cb)),
  }),
} as unknown as Meter;
const meterProvider: MeterProvider = { getMeter: () => recordingMeter };

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  context.setGlobalContextManager(new AlsContextManager());
  trace.setGlobalTracerProvider(provider);
  metrics.setGlobalMeterProvider(meterProvider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  metrics.disable();
});

describe("OpenTelemetry", () => {
  it("stores the enqueuer's trace context and links the job's attempt span to it", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const tracer = trace.getTracer("test");
    const { job, enqueuer } = await tracer.startActiveSpan("handle request", async (span) => {
      const handle = await d.async(tasks.add, { a: 1, b: 2 });
      span.end();
      return { job: handle, enqueuer: span.spanContext() };
    });
    expect(await d.await(job, { timeout: "10s" })).toBe(3);

    const { rows } = await db.pool.query(`select trace from ${db.q}.jobs where id = $1`, [job.id]);
    expect(rows[0].trace).toEqual({ traceparent: `00-${enqueuer.traceId}-${enqueuer.spanId}-01` });

    const span = await eventually("the job span is exported", () => exporter.getFinishedSpans().find((s) => s.name === "durable.job test#add"));
    expect(span.links).toHaveLength(1);
    expect(span.links[0]!.context.traceId).toBe(enqueuer.traceId);
    expect(span.links[0]!.context.spanId).toBe(enqueuer.spanId);
    // A new trace per attempt, connected by the link rather than parented.
    expect(span.spanContext().traceId).not.toBe(enqueuer.traceId);
    expect(span.attributes).toMatchObject({
      "durable.job.id": job.id,
      "durable.task.id": "test#add",
      "durable.job.queue": "ad_hoc_worker",
      "durable.job.attempt": 1,
      "code.filepath": "test/support/tasks.mjs",
      "code.lineno": 1,
    });
  });

  it("marks a failed attempt's span as an error with the exception recorded", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(tasks.fail, { message: "kaput" }, { maxAttempts: 1 });
    await expect(d.await(job, { timeout: "10s" })).rejects.toThrow(/kaput/);
    const span = await eventually("the failed span is exported", () =>
      exporter.getFinishedSpans().find((s) => s.name === "durable.job test#fail" && s.attributes["durable.job.id"] === job.id),
    );
    expect(span.status.code).toBe(2);
    expect(span.events.some((e) => e.name === "exception")).toBe(true);
    // Enqueued outside any span: nothing stored, no link.
    expect(span.links).toHaveLength(0);
  });

  it("runs the closure with the attempt span active, so its own spans are children", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const job = await d.async(telemetryTasks.activeSpan, {});
    const seen = (await d.await(job, { timeout: "10s" })) as { traceId: string; spanId: string };
    const span = await eventually("the job span", () => exporter.getFinishedSpans().find((s) => s.name === "durable.job test#activeSpan"));
    expect(seen).toEqual({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });
  });

  it("counts started, completed and failed jobs and reports queue depth", async () => {
    const db = await testDatabase();
    const d = await db.start({ nodeType: ["worker"] });
    recorded.length = 0;
    const ok = await d.async(tasks.add, { a: 1, b: 1 });
    const bad = await d.async(tasks.fail, { message: "no" }, { maxAttempts: 1 });
    await d.await(ok, { timeout: "10s" });
    await expect(d.await(bad, { timeout: "10s" })).rejects.toThrow();
    await d.async(tasks.add, { a: 1, b: 1 }, { nodeType: "datasync" });
    const count = (name: string, task: string) => recorded.filter((r) => r.name === name && r.attributes["durable.task.id"] === task).length;
    await eventually("metrics recorded", () => count("durable.jobs.completed", "test#add") === 1 && count("durable.jobs.failed", "test#fail") === 1);
    expect(count("durable.jobs.started", "test#add")).toBe(1);
    expect(count("durable.jobs.started", "test#fail")).toBe(1);
    expect(recorded.find((r) => r.name === "durable.jobs.failed")!.attributes).toMatchObject({ "durable.job.queue": "ad_hoc_worker", "durable.job.state": "discarded" });
    expect(recorded.some((r) => r.name === "durable.job.duration")).toBe(true);

    const observed: Array<{ value: number; attributes?: Record<string, unknown> }> = [];
    const callbacks = gauges.get("durable.queue.depth") ?? [];
    await callbacks[callbacks.length - 1]!({ observe: (value, attributes) => observed.push({ value, attributes }) });
    expect(observed).toContainEqual({ value: 1, attributes: { "durable.job.queue": "ad_hoc_datasync", "durable.job.state": "available" } });
    await d.stop({ grace: 0 });
    expect(gauges.get("durable.queue.depth")).not.toContain(callbacks[callbacks.length - 1]);
  });
});
