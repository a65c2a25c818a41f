import { EventEmitter } from "node:events";

export type { Logger } from "../logger.js";
export { defaultLogger } from "../logger.js";

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
  /** Jobs discarded because they had not started by their deadline. */
  "job:expired": { jobs: Array<{ id: string; task: string; queue: string }> };
  /** Due jobs no live node can run have waited past `unrunnableWarnAfter`: once per queue, task and body hash. */
  "job:unrunnable": { tasks: Array<{ queue: string; task: string; hash: string; count: number; waitedMs: number; reason: "queue" | "task" | "hash"; message: string }> };
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
