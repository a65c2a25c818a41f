import { randomUUID } from "node:crypto";
import { CaptureTooLargeError, InvalidOptionError } from "../errors.js";
import { sealPlaces, type Codec } from "../serialize/codec.js";
import type { NormalizedJobOptions, QueryableClient } from "../config/options.js";
import { bytesOver } from "../serialize/text.js";
import { serializeChecked, type SerializedValue } from "../serialize/values.js";
import type { TaskMetadata, TaskStub } from "../tasks/registry.js";
import { insertJobs, insertJobsChecked, upsertTasksSql, type JobRow } from "./queries.js";
import { insertUnique, uniqueKey, type UniqueCheck } from "../unique/index.js";

export interface JobHandle<T = unknown> {
  id: string;
  task: string;
  queue: string;
  state: string;
  /** True when a unique job already existed and this call inserted nothing. */
  conflict: boolean;
  /** Phantom field carrying the closure's result type for durable.await. */
  readonly __result?: T;
}

export interface EnqueueItem {
  stub: TaskStub;
  captures: Record<string, unknown>;
  options: NormalizedJobOptions;
}

export interface PreparedItem {
  item: EnqueueItem;
  row: JobRow;
}

export function callerOf(task: TaskMetadata): string {
  return `${task.caller.file}:${task.caller.line}:${task.caller.column}`;
}

const whereCache = new WeakMap<TaskMetadata, string>();
/** "durable.async() at src/a.ts:3:5", built once per stub: error messages name it, the hot path only passes it on. */
function whereOf(stub: TaskStub): string {
  let where = whereCache.get(stub);
  if (where === undefined) {
    where = `durable.${stub.kind}() at ${callerOf(stub)}`;
    whereCache.set(stub, where);
  }
  return where;
}

interface EncodedOptions {
  backoff: string | null;
  meta: string;
  tags: string;
}
const encodedCache = new WeakMap<NormalizedJobOptions, EncodedOptions>();
/**
 * The JSON of an options object, once per object. Only frozen objects are
 * cached: the instance freezes the normalizations it shares between calls
 * (no options, or equal options again), and only those are seen twice.
 */
function encodedOptions(o: NormalizedJobOptions): EncodedOptions {
  let encoded = encodedCache.get(o);
  if (encoded === undefined) {
    encoded = { backoff: o.backoff ? JSON.stringify(o.backoff) : null, meta: JSON.stringify(o.meta), tags: JSON.stringify(o.tags) };
    if (Object.isFrozen(o)) encodedCache.set(o, encoded);
  }
  return encoded;
}

/**
 * Serializes a call's captures as they will be stored, or throws at the call
 * site: NotSerializableError naming the path, CaptureTooLargeError over
 * `maxBytes` (measured as stored, after encryption when it is on).
 */
export function serializeCaptures(captures: Record<string, unknown>, where: string, encode: (payload: SerializedValue) => unknown, maxBytes: number) {
  const serialized = serializeChecked(captures, "captures", where);
  const text = JSON.stringify(encode(serialized));
  const over = bytesOver(text, maxBytes);
  if (over !== null) throw new CaptureTooLargeError(over, maxBytes, where);
  return { serialized, text };
}

/** Validates and serializes synchronously, so a bad capture throws at the call site. */
export function prepare(item: EnqueueItem, codec: Codec, trace: string | null, maxCaptureBytes: number): PreparedItem {
  const where = whereOf(item.stub);
  // Sealed captures are bound to a row key made here, since the job id does not exist until the insert.
  const rowKey = codec.sealed ? randomUUID() : null;
  const place = sealPlaces.captures(item.stub.id, rowKey);
  const { serialized, text } = serializeCaptures(item.captures, where, (payload) => codec.encode(payload, place), maxCaptureBytes);
  const o = item.options;
  const encoded = encodedOptions(o);
  return {
    item,
    row: {
      queue: o.queue,
      taskId: item.stub.id,
      bodyHash: item.stub.hash,
      priority: o.priority,
      maxAttempts: o.maxAttempts,
      timeoutMs: o.timeoutMs,
      backoff: encoded.backoff,
      captures: text,
      rowKey,
      meta: encoded.meta,
      tags: encoded.tags,
      runAt: o.runAt,
      // Hashed from the serialized captures, before the codec: encryption is randomized.
      uniqueKey: o.unique ? uniqueKey({ task: item.stub.id, queue: o.queue, captures: serialized, meta: o.meta }, o.unique, where, codec.digest) : null,
      trace,
      expiresAt: o.expiresAt,
      onDiscard: o.onDiscard ? hookDocument(o.onDiscard, codec, maxCaptureBytes) : null,
      concurrencyKey: o.concurrency?.key ?? null,
      concurrencyLimit: o.concurrency?.limit ?? null,
    },
  };
}

/**
 * The discard hook as the database trigger reads it (migrations/0007): the
 * hook job's row, its captures serialized now (encrypted when encryption is
 * on) and carried as a JSON string holding their exact text.
 */
export function hookDocument(hook: NonNullable<NormalizedJobOptions["onDiscard"]>, codec: Codec, maxCaptureBytes: number, label = "onDiscard"): string {
  // Sealed for the hook job's own row: the trigger stores this row key with it.
  const rowKey = codec.sealed ? randomUUID() : null;
  const place = sealPlaces.captures(hook.stub.id, rowKey);
  const { text } = serializeCaptures(hook.captures, `${whereOf(hook.stub)} (${label})`, (payload) => codec.encode(payload, place), maxCaptureBytes);
  const o = hook.options;
  return JSON.stringify({
    task_id: hook.stub.id, body_hash: hook.stub.hash, queue: o.queue, priority: o.priority, max_attempts: o.maxAttempts,
    timeout_ms: o.timeoutMs, backoff: o.backoff, meta: o.meta, tags: o.tags, captures: text, row_key: rowKey,
  });
}

/** The stubs a batch needs in the tasks table: each job's, and its discard hook's. */
export function stubsOf(prepared: PreparedItem[]): TaskStub[] {
  const stubs = prepared.map((p) => p.item.stub);
  for (const p of prepared) if (p.item.options.onDiscard) stubs.push(p.item.options.onDiscard.stub);
  return stubs;
}

const UNIQUE_BATCH = 1_000;

/** A pool: the unique path opens (and commits) transactions of its own on it. */
const ownsTransactions = (client: QueryableClient): boolean => typeof (client as any).connect === "function" && typeof (client as any).totalCount === "number";

/** Chunks keep one statement's arrays (and the server's memory for them) bounded. */
const CHUNK = 5_000;

/** `named`: prepared statements may be used on `client` (the instance's own pool, not behind a transaction pooler). */
export async function insertPrepared(client: QueryableClient, quotedSchema: string, channel: string, prepared: PreparedItem[], named = false): Promise<JobHandle[]> {
  // Unique rows are locked, checked and inserted by their own statement (src/unique); plain batches take the plain one.
  if (prepared.some((p) => p.row.uniqueKey !== null)) {
    const insertRows = (c: QueryableClient, items: PreparedItem[], check: UniqueCheck) => insertJobsChecked(c, quotedSchema, items.map((p) => p.row), channel, check, named);
    // One advisory lock per key lives until commit, and Postgres's shared lock
    // table holds only max_locks_per_transaction × max_connections (6,400 by
    // default): "out of shared memory" at ~50k keys. In transactions of our own,
    // unique rows go in batches; in the caller's, the locks must last until
    // their commit, so a batch that large is refused with the fix.
    if (!ownsTransactions(client)) {
      if (prepared.length > UNIQUE_BATCH * 4) {
        throw new InvalidOptionError(
          "client",
          `${prepared.length} unique jobs in the caller's transaction would take ${prepared.length} advisory locks until it commits, past what Postgres's lock table holds by default. Insert at most ${UNIQUE_BATCH * 4} unique jobs per transaction, or enqueue them without \`client\`.`,
        );
      }
      return insertUnique(client, quotedSchema, prepared, insertRows);
    }
    const handles: JobHandle[] = [];
    for (let i = 0; i < prepared.length; i += UNIQUE_BATCH) handles.push(...(await insertUnique(client, quotedSchema, prepared.slice(i, i + UNIQUE_BATCH), insertRows)));
    return handles;
  }
  const handles: JobHandle[] = [];
  for (let i = 0; i < prepared.length; i += CHUNK) {
    const chunk = prepared.slice(i, i + CHUNK);
    const rows = await insertJobs(client, quotedSchema, chunk.map((p) => p.row), channel, named);
    rows.forEach((row, j) => handles.push({ id: row.id, task: chunk[j]!.item.stub.id, queue: chunk[j]!.row.queue, state: row.state, conflict: false }));
  }
  return handles;
}

/**
 * Keeps the tasks table current with one row per (task id, body hash), written
 * once per process per stub, so job rows never copy the source text.
 */
export class TaskCatalog {
  private readonly written = new Set<string>();
  constructor(private readonly quotedSchema: string) {}

  /** Stub objects already written: a bulk insert of one task checks 1000 times, so no string keys per check. */
  private readonly seen = new WeakSet<TaskMetadata>();

  async ensure(client: QueryableClient, tasks: TaskMetadata[]): Promise<void> {
    const fresh = tasks.filter((t) => !this.seen.has(t));
    if (fresh.length === 0) return;
    const missing = fresh.filter((t) => !this.written.has(`${t.id}\0${t.hash}`));
    if (missing.length === 0) {
      for (const t of fresh) this.seen.add(t);
      return;
    }
    const unique = [...new Map(missing.map((t) => [`${t.id}\0${t.hash}`, t])).values()];
    const col = <T>(f: (t: TaskMetadata) => T) => unique.map(f);
    await client.query(upsertTasksSql(this.quotedSchema), [
      col((t) => t.id), col((t) => t.hash), col((t) => t.caller.file), col((t) => t.caller.fn), col((t) => t.caller.line),
      col((t) => t.caller.column), col((t) => t.source), col((t) => JSON.stringify(t.captures)), col((t) => t.kind),
    ]);
    for (const t of unique) this.written.add(`${t.id}\0${t.hash}`);
    for (const t of fresh) this.seen.add(t);
  }
}
