import { EventEmitter } from "node:events";

/** A structured logger; replace it with `durable.start({ logger })` (pino and console both fit). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
type Level = (typeof LEVELS)[number];

/** JSON lines on stderr, at or above DURABLE_LOG_LEVEL (default "info"). */
export function defaultLogger(level: Level = (process.env.DURABLE_LOG_LEVEL as Level) ?? "info"): Logger {
  const min = Math.max(0, LEVELS.indexOf(level));
  const write = (at: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(at) < min) return;
    process.stderr.write(JSON.stringify({ level: at, time: new Date().toISOString(), msg: message, ...fields }) + "\n");
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

export interface JobEventInfo {
  id: string;
  queue: string;
  task: string;
  attempt: number;
  maxAttempts: number;
  meta: Record<string, unknown>;
  caller?: { file: string; fn: string | null; line: number; column: number };
}

/** Every event the runtime emits, with its payload. Shapes follow OpenTelemetry attribute naming where it fits. */
export interface DurableEvents {
  "job:insert": { jobs: Array<{ id: string; queue: string; task: string; conflict: boolean }> };
  "job:insert-error": { error: Error; task: string; caller: string };
  "job:start": { job: JobEventInfo };
  "job:stop": { job: JobEventInfo; state: "completed"; durationMs: number };
  "job:error": { job: JobEventInfo; state: "retryable" | "discarded" | "cancelled" | "scheduled"; error: Error; durationMs: number };
  "job:rescue": { jobs: Array<{ id: string; state: string }> };
  "job:discard-unknown": { jobs: Array<{ id: string; task: string }> };
  "queue:change": { queue: string; change: Record<string, unknown> };
  "node:error": { error: Error; during: string };
}

export type EventName = keyof DurableEvents;

export class DurableEmitter {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  on<E extends EventName>(event: E, listener: (payload: DurableEvents[E]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }
  once<E extends EventName>(event: E, listener: (payload: DurableEvents[E]) => void): void {
    this.emitter.once(event, listener);
  }
  emit<E extends EventName>(event: E, payload: DurableEvents[E]): void {
    // A throwing listener must never break the runner.
    try {
      this.emitter.emit(event, payload);
    } catch {
      /* listener errors are the listener's problem */
    }
  }
  listenerCount(event: EventName): number {
    return this.emitter.listenerCount(event);
  }
}
