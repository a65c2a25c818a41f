import type pg from "pg";
import { AwaitTimeoutError, InvalidOptionError, JobCancelledError, JobFailedError, JobNotFoundError, type RecordedError } from "../errors.js";
import { parseDuration, describe } from "../config/duration.js";
import { deserialize } from "../serialize/values.js";
import { jobIdText } from "../config/job-id.js";
import type { Notifier } from "../db/notifier.js";
import { statement } from "../db/statements.js";
import { sealPlaces, type Codec } from "../serialize/codec.js";


export interface AwaitOptions {
  /** How long to wait (default "5m"). The job keeps running after a timeout. */
  timeout?: string | number;
}

const readJob = (quotedSchema: string) => `select id::text, state, result, errors->-1 as last_error from ${quotedSchema}.jobs where id = $1`;

export function jobIdOf(handleOrId: unknown): string {
  const id = jobIdText(handleOrId);
  if (id !== null) return id;
  if (typeof handleOrId === "object" && handleOrId !== null && typeof (handleOrId as any).id === "string") return jobIdOf((handleOrId as any).id);
  throw new InvalidOptionError("job", `expected a JobHandle or a job id, got ${describe(handleOrId)}.`);
}

/**
 * Waits for a job's outcome. Subscribes before the first read, so a
 * completion between the read and the wait is never missed; wakes on the
 * completion notification and also polls the row with a growing interval,
 * so a lost notification costs latency, never correctness.
 */
export class Awaiter {
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly quotedSchema: string,
    private readonly codec: Codec,
    notifier: Notifier | null,
  ) {
    notifier?.on("done", ({ ids }) => {
      for (const id of ids) {
        const set = this.waiting.get(id);
        if (set) for (const wake of set) wake();
      }
    });
    notifier?.onReconnect(() => {
      for (const set of this.waiting.values()) for (const wake of set) wake();
    });
  }

  async await<T = unknown>(handleOrId: unknown, options: AwaitOptions = {}): Promise<T> {
    const id = jobIdOf(handleOrId);
    if (typeof options !== "object" || options === null) throw new InvalidOptionError("options", `expected { timeout }, got ${describe(options)}.`);
    const timeoutMs = parseDuration("timeout", options.timeout ?? "5m");
    const deadline = Date.now() + timeoutMs;
    let wake: () => void = () => undefined;
    let woken = false;
    const subscriber = () => {
      woken = true;
      wake();
    };
    let set = this.waiting.get(id);
    if (!set) this.waiting.set(id, (set = new Set()));
    set.add(subscriber);
    try {
      for (let pollMs = 25; ; pollMs = Math.min(pollMs * 2, 1_000)) {
        woken = false;
        const { rows } = await this.pool.query(statement(this.pool, `durable-await-${this.quotedSchema}`, readJob(this.quotedSchema), [id]));
        const row = rows[0];
        if (!row) throw new JobNotFoundError(id);
        if (row.state === "completed") return row.result === null ? (undefined as T) : deserialize<T>(this.codec.decode(row.result, sealPlaces.result(row.id)));
        if (row.state === "discarded") throw new JobFailedError(id, row.last_error as RecordedError | null);
        if (row.state === "cancelled") throw new JobCancelledError(id, row.last_error as RecordedError | null);
        const left = deadline - Date.now();
        if (left <= 0) throw new AwaitTimeoutError(id, timeoutMs);
        if (woken) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(pollMs, left));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = () => undefined;
      }
    } finally {
      set.delete(subscriber);
      if (set.size === 0) this.waiting.delete(id);
    }
  }
}
