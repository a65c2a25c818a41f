import { JobNotFoundError } from "../errors.js";
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
export class StepWaiter {
  private readonly pending = new Map<string, Array<(settlement: Settlement) => void>>();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly runtime: StepRuntime,
    private readonly suspend: (waitingFor: string[]) => void,
  ) {}

  wait(id: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let list = this.pending.get(id);
      if (!list) this.pending.set(id, (list = []));
      list.push((s) => (s.ok ? resolve(s.value) : reject(s.error)));
      this.loop ??= this.run();
    });
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
        const left = deadline - Date.now();
        if (this.pending.size === 0) break;
        if (left <= 0) return this.suspend(this.pendingIds());
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
      if (settlement && list) this.settle(row.id, list, settlement);
    }
    for (const [id, list] of this.pending) if (!seen.has(id)) this.settle(id, list, { ok: false, error: new JobNotFoundError(id) });
  }

  private settle(id: string, list: Array<(s: Settlement) => void>, settlement: Settlement): void {
    this.pending.delete(id);
    for (const settle of list) settle(settlement);
  }
}
