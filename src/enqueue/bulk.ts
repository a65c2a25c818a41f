import { AsyncLocalStorage } from "node:async_hooks";
import type { JobHandle, PreparedItem } from "./index.js";

// durable.bulk(fn): every durable.async() made while fn runs joins one
// insert. Each call's promise settles with that insert, so:
//
// - a failed insert rejects the calls' promises, which are marked handled:
//   fire-and-forget calls inside a bulk are reported (logged and emitted by
//   the owner) like single calls, never left as unhandled rejections that
//   would end the process;
// - fn may wait for one of its own calls (`bulk(() => durable.async(...))`,
//   `await durable.async(...)` in a loop, `Promise.all` of them): what is
//   collected by then is inserted so fn can go on, instead of waiting
//   forever for an insert that starts only once fn returns. The calls'
//   promises are a Promise subclass whose `then` tells the batch it is
//   waited on (`await` and `Promise.all` both call it), so a bulk that
//   never waits on its own calls still inserts everything in one go.

interface Entry {
  prepared: PreparedItem;
  resolve: (handle: JobHandle) => void;
  reject: (error: unknown) => void;
  settled: () => void;
}

export interface BulkOwner {
  /** Inserts prepared rows in order; rejects as a whole. */
  insertMany(prepared: PreparedItem[]): Promise<JobHandle[]>;
  /** Logs and emits a failed insert of these rows (once per task and caller). */
  reportInsertFailure(error: unknown, prepared: PreparedItem[]): void;
}

interface Batch {
  owner: BulkOwner;
  entries: Entry[];
  /** Called when a caller waits on a call that is not inserted yet. */
  demanded: () => void;
}

const scope = new AsyncLocalStorage<Batch>();

/** A call's promise inside a bulk scope. Promises derived from it are plain ones. */
class BulkCall<T> extends Promise<T> {
  static override get [Symbol.species]() {
    return Promise;
  }
  batch: Batch | null = null;
  override then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    this.batch?.demanded();
    return super.then(onFulfilled, onRejected);
  }
}

/** The open bulk batch of `owner` around this call, if any: the call joins it. */
export function joinBulk(owner: BulkOwner, prepared: PreparedItem): Promise<JobHandle> | null {
  const batch = scope.getStore();
  if (!batch || batch.owner !== owner) return null;
  const entry = { prepared } as Entry;
  const promise = new BulkCall<JobHandle>((resolve, reject) => Object.assign(entry, { resolve, reject }));
  // Reported by the owner when the insert fails; a caller that awaits still sees the rejection.
  Promise.prototype.then.call(promise, undefined, () => undefined);
  promise.batch = batch;
  entry.settled = () => (promise.batch = null);
  batch.entries.push(entry);
  return promise;
}

const idle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs fn in a bulk scope and inserts what it enqueues; resolves with every handle in call order. */
export async function runBulk(owner: BulkOwner, fn: () => unknown): Promise<JobHandle[]> {
  let wake: () => void = () => undefined;
  let waitedOn = false;
  const batch: Batch = { owner, entries: [], demanded: () => ((waitedOn = true), wake()) };
  const handles: JobHandle[] = [];
  let insertError: { error: unknown } | null = null;
  const flush = async () => {
    const entries = batch.entries.splice(0);
    if (entries.length === 0) return;
    entries.forEach((e) => e.settled());
    const prepared = entries.map((e) => e.prepared);
    try {
      const inserted = await owner.insertMany(prepared);
      entries.forEach((e, i) => e.resolve(inserted[i]!));
      handles.push(...inserted);
    } catch (error) {
      owner.reportInsertFailure(error, prepared);
      for (const e of entries) e.reject(error);
      insertError ??= { error };
    }
  };
  let outcome: { error: unknown } | null | undefined;
  const done = (async () => scope.run(batch, fn))().then(
    () => void (outcome = null),
    (error) => void (outcome = { error }),
  );
  while (outcome === undefined) {
    if (!waitedOn) await Promise.race([done, new Promise<void>((resolve) => (wake = resolve))]);
    if (outcome !== undefined) break;
    waitedOn = false;
    // fn waits on one of its calls: insert what it collected (letting it finish what it is doing first).
    await idle();
    await flush();
  }
  if (outcome !== null) {
    // fn threw: what it enqueued and was not inserted yet is dropped, with fn's error.
    for (const e of batch.entries.splice(0)) e.settled(), e.reject(outcome.error);
    throw outcome.error;
  }
  await flush();
  if (insertError !== null) throw (insertError as { error: unknown }).error;
  return handles;
}
