import type pg from "pg";
import { AwaitTimeoutError, InvalidOptionError, JobCancelledError, JobFailedError, JobNotFoundError, type RecordedError } from "../errors.js";
import { parseDuration, describe } from "../config/duration.js";
import { deserialize } from "../serialize/values.js";
import { jobIdText } from "../config/job-id.js";
import type { Notifier } from "../db/notifier.js";
import { hotQuery } from "../db/statements.js";
import { sealPlaces, type Codec } from "../serialize/codec.js";
import { openCarried, type CarriedResult, type NotifyKey } from "../db/carried-results.js";


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

/** How a wait ended: a notice that the job ended (with its stored result when the notice carried it), or a poll. */
type Wake = { carried: true; value: unknown } | { carried: false };

/**
 * Waits for a job's outcome. Subscribes before the first read, so a
 * completion between the read and the wait is never missed; wakes on the
 * completion notification and also polls the row with a growing interval,
 * so a lost notification costs latency, never correctness. A completion
 * notice that carries the result (small results, notifyResults) ends the
 * wait without reading the row again.
 */
export class Awaiter {
  private readonly waiting = new Map<string, Set<(wake: Wake) => void>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly quotedSchema: string,
    private readonly codec: Codec,
    notifier: Notifier | null,
    /** Checks results carried by done notifications; null: always read the row. */
    private readonly notifyKey: NotifyKey | null = null,
  ) {
    notifier?.on("done", ({ ids, results }) => {
      for (const id of ids) {
        const set = this.waiting.get(id);
        if (!set) continue;
        // One check of the carried result however many calls await this job.
        const wake = this.wakeFor(id, results.get(id));
        for (const subscriber of set) subscriber(wake);
      }
    });
    notifier?.onReconnect(() => {
      for (const set of this.waiting.values()) for (const subscriber of set) subscriber({ carried: false });
    });
  }

  async await<T = unknown>(handleOrId: unknown, options: AwaitOptions = {}): Promise<T> {
    const id = jobIdOf(handleOrId);
    if (typeof options !== "object" || options === null) throw new InvalidOptionError("options", `expected { timeout }, got ${describe(options)}.`);
    const timeoutMs = parseDuration("timeout", options.timeout ?? "5m");
    const deadline = Date.now() + timeoutMs;
    let woken: Wake | null = null;
    let resume: () => void = () => undefined;
    const subscriber = (wake: Wake) => {
      // A carried result is final: a later notice without one must not replace it.
      if (woken?.carried !== true) woken = wake;
      resume();
    };
    let set = this.waiting.get(id);
    if (!set) this.waiting.set(id, (set = new Set()));
    set.add(subscriber);
    try {
      for (let pollMs = 25; ; pollMs = Math.min(pollMs * 2, 1_000)) {
        const wake = woken as Wake | null;
        if (wake?.carried) return this.decodeResult<T>(id, wake.value);
        woken = null;
        const outcome = await this.read<T>(id);
        if (outcome.done) return outcome.value;
        const left = deadline - Date.now();
        if (left <= 0) throw new AwaitTimeoutError(id, timeoutMs);
        if (woken) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(pollMs, left));
          resume = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        resume = () => undefined;
      }
    } finally {
      set.delete(subscriber);
      if (set.size === 0) this.waiting.delete(id);
    }
  }

  /** A carried result whose HMAC holds ends the wait; anything else (none, forged, malformed) means: read the row. */
  private wakeFor(id: string, carried: CarriedResult | undefined): Wake {
    if (!carried || !this.notifyKey) return { carried: false };
    const stored = openCarried(this.notifyKey, carried);
    if (stored === undefined) return { carried: false };
    try {
      return { carried: true, value: stored === null ? null : JSON.parse(stored) };
    } catch {
      return { carried: false };
    }
  }

  /** Reads the job's row: its outcome if it ended (a failure or cancellation throws), else not done. */
  private async read<T>(id: string): Promise<{ done: true; value: T } | { done: false }> {
    const { rows } = await hotQuery(this.pool, `durable-await-${this.quotedSchema}`, readJob(this.quotedSchema), [id]);
    const row = rows[0];
    if (!row) throw new JobNotFoundError(id);
    if (row.state === "completed") return { done: true, value: this.decodeResult<T>(row.id, row.result) };
    if (row.state === "discarded") throw new JobFailedError(id, row.last_error as RecordedError | null);
    if (row.state === "cancelled") throw new JobCancelledError(id, row.last_error as RecordedError | null);
    return { done: false };
  }

  private decodeResult<T>(id: string, stored: unknown): T {
    return stored === null ? (undefined as T) : deserialize<T>(this.codec.decode(stored, sealPlaces.result(id)));
  }
}
