import { AwaitTimeoutError, JobNotFoundError } from "../errors.js";
import { settlementOf, type JobOutcomeRow, type Settlement } from "./journal.js";
import { readOutcomes } from "./queries.js";
import type { StepRuntime } from "./runtime.js";

/**
 * The awaits of one execution, checked together: one query per round for
 * every job awaited (an awaitAll of 1,000 children is one query, not
 * 1,000), woken by done notices, with a short growing poll as the fallback.
 * Jobs that end within the runtime's in-place wait resolve their awaits;
 * past it the execution suspends, waiting for every job still pending.
 */
/** A timed await's journaled deadline (scope.ts). */
export interface Deadline {
  at: Date;
  timeoutMs: number;
}

/** Whether a job ended after the deadline (a timed await of it times out, whenever it is replayed). */
export function endedAfter(row: JobOutcomeRow, deadline: Deadline): boolean {
  return row.finished_at instanceof Date && row.finished_at.getTime() > deadline.at.getTime();
}

interface Awaiting {
  settle: (settlement: Settlement) => void;
  deadline: Deadline | null;
}

export class StepWaiter {
  private readonly pending = new Map<string, Awaiting[]>();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly runtime: StepRuntime,
    private readonly suspend: (waitingFor: string[], wakeAt: Date | null) => void,
  ) {}

  wait(id: string, deadline: Deadline | null = null): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let list = this.pending.get(id);
      if (!list) this.pending.set(id, (list = []));
      list.push({ settle: (s) => (s.ok ? resolve(s.value) : reject(s.error)), deadline });
      this.loop ??= this.run();
    });
  }

  /** The earliest deadline of the timed awaits still pending: a suspension wakes then. */
  private earliestDeadline(): Date | null {
    let earliest: Date | null = null;
    for (const list of this.pending.values()) for (const a of list) if (a.deadline && (!earliest || a.deadline.at < earliest)) earliest = a.deadline.at;
    return earliest;
  }

  /** Timed awaits whose deadline passed while waiting in place: AwaitTimeoutError. */
  private expire(): void {
    const now = Date.now();
    for (const [id, list] of this.pending) {
      const [late, left] = [list.filter((a) => a.deadline && a.deadline.at.getTime() <= now), list.filter((a) => !(a.deadline && a.deadline.at.getTime() <= now))];
      for (const a of late) a.settle({ ok: false, error: new AwaitTimeoutError(id, a.deadline!.timeoutMs) });
      if (left.length === 0) this.pending.delete(id);
      else if (late.length > 0) this.pending.set(id, left);
    }
  }

  pendingIds(): string[] {
    return [...this.pending.keys()];
  }

  private async run(): Promise<void> {
    const deadline = Date.now() + this.runtime.waitInPlaceMs;
    let woken = false;
    let wake = () => undefined as void;
    const off = this.runtime.onDone((ids) => {
      if (!ids.some((id) => this.pending.has(id))) return;
      woken = true;
      wake();
    });
    try {
      // Awaits made in the same turn (Promise.all over a loop) join the first check.
      await new Promise((resolve) => setImmediate(resolve));
      for (let pollMs = 25; this.pending.size > 0; pollMs = Math.min(pollMs * 2, 200)) {
        woken = false;
        await this.check();
        this.expire();
        const left = deadline - Date.now();
        if (this.pending.size === 0) break;
        if (left <= 0) return this.suspend(this.pendingIds(), this.earliestDeadline());
        if (woken) continue;
        const untilExpiry = (this.earliestDeadline()?.getTime() ?? Infinity) - Date.now();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, Math.min(pollMs, left, untilExpiry)));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = () => undefined;
      }
    } catch (error) {
      // The database failed the check: every await fails, and the attempt with them (it is retried).
      for (const [id, list] of this.pending) this.settle(id, list, { ok: false, error: error as Error });
    } finally {
      off();
      this.loop = null;
    }
  }

  private async check(): Promise<void> {
    const { rows } = await this.runtime.query(readOutcomes(this.runtime.deps.quotedSchema), [this.pendingIds()]);
    const seen = new Set<string>();
    for (const row of rows as JobOutcomeRow[]) {
      seen.add(row.id);
      const settlement = settlementOf(row, this.runtime.deps.codec);
      const list = this.pending.get(row.id);
      if (!settlement || !list) continue;
      // Ended after a timed await's deadline: that await timed out (as a replay would find), the others get the outcome.
      const late = list.filter((a) => a.deadline && endedAfter(row, a.deadline));
      for (const a of late) a.settle({ ok: false, error: new AwaitTimeoutError(row.id, a.deadline!.timeoutMs) });
      this.settle(row.id, list.filter((a) => !late.includes(a)), settlement);
    }
    for (const [id, list] of this.pending) if (!seen.has(id)) this.settle(id, list, { ok: false, error: new JobNotFoundError(id) });
  }

  private settle(id: string, list: Awaiting[], settlement: Settlement): void {
    this.pending.delete(id);
    for (const a of list) a.settle(settlement);
  }
}
