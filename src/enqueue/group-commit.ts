import type { JobHandle, PreparedItem } from "./index.js";

// Group commit for single durable.async() calls on the instance's pool.
// A call that finds no insert in flight is written at once, alone: a lone
// request handler never waits for a timer. Calls made while an insert is in
// flight queue up and go together, in one statement and one commit, as soon
// as it ends. Under load every round trip carries many jobs; idle, nothing
// changes. Each call keeps its own outcome: a group the server refuses
// (one bad row fails the whole statement) is written again call by call, so
// only the offending call fails.

interface Waiting {
  prepared: PreparedItem;
  resolve: (handle: JobHandle) => void;
  reject: (error: unknown) => void;
}

/** Rows per group: one statement's parameters stay small; the rest go in the next group. */
const MAX_GROUP = 1_000;

/**
 * A Postgres error the server raised for the statement (it rolled back, so
 * writing its rows again cannot duplicate them). Connection-level failures
 * (class 08, the server going away: 57P) leave the commit unknown: those are
 * never retried.
 */
export function refusedByServer(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith("08") && !code.startsWith("57P");
}

export class GroupCommit {
  private queued: Waiting[] = [];
  private writing = false;

  /** `write` inserts rows in order and returns their handles in order, or rejects as a whole. */
  constructor(private readonly write: (prepared: PreparedItem[]) => Promise<JobHandle[]>) {}

  submit(prepared: PreparedItem): Promise<JobHandle> {
    return new Promise<JobHandle>((resolve, reject) => {
      this.queued.push({ prepared, resolve, reject });
      if (!this.writing) this.next();
    });
  }

  private next(): void {
    if (this.queued.length === 0) return;
    const group = this.queued.length <= MAX_GROUP ? this.queued : this.queued.slice(0, MAX_GROUP);
    this.queued = group === this.queued ? [] : this.queued.slice(MAX_GROUP);
    this.writing = true;
    // The callers just answered usually call again at once (a loop of
    // awaited calls, a busy server): stay "in flight" until their
    // continuations have run, so those calls form one group instead of the
    // first going alone and the rest after it. One event-loop turn, no timer.
    void this.settle(group).finally(() =>
      setImmediate(() => {
        this.writing = false;
        this.next();
      }),
    );
  }

  private async settle(group: Waiting[]): Promise<void> {
    try {
      const handles = await this.write(group.map((w) => w.prepared));
      group.forEach((w, i) => w.resolve(handles[i]!));
    } catch (error) {
      if (group.length === 1 || !refusedByServer(error)) {
        for (const w of group) w.reject(error);
        return;
      }
      // The server refused the statement, so nothing of it was written:
      // each call again on its own, so only the bad one fails.
      await Promise.all(group.map((w) => this.write([w.prepared]).then(([handle]) => w.resolve(handle!), w.reject)));
    }
  }
}
