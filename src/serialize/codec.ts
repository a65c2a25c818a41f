/**
 * Where a stored value lives: a column and the parts that name its row.
 * Sealing binds the value to its place, so a sealed value copied into another
 * row or column fails authentication instead of running with someone else's
 * data.
 */
export interface SealPlace {
  column: string;
  row: readonly string[];
  /** False where only a v2 envelope can have been written, so an older, unbound v1 value put there is refused. */
  v1?: boolean;
}

export const sealPlaces = {
  /**
   * A job's captures are sealed before the insert gives the job an id, so
   * they are bound to the job's task and to a random row key generated at
   * the call and stored beside them (jobs.row_key). Rows written before
   * row keys existed have none and may hold v1 values; a row with one holds
   * only v2 values.
   */
  captures: (taskId: string, rowKey: string | null): SealPlace => ({ column: "jobs.captures", row: [taskId, rowKey ?? ""], v1: rowKey === null }),
  /** A result is sealed by the worker that finished the job, which knows its id. */
  result: (jobId: string): SealPlace => ({ column: "jobs.result", row: [jobId] }),
};

/**
 * How captures and results are stored. The default stores superjson's
 * payload as-is; encryption at rest swaps in a codec that seals it.
 */
export interface Codec {
  /** True when encode seals (encryption at rest is on): the enqueuer then gives each job a row key. */
  sealed?: boolean;
  encode(value: unknown, place: SealPlace): unknown;
  decode(stored: unknown, place: SealPlace): unknown;
  /**
   * Hashes text that is stored in the clear (unique keys). With encryption
   * on, a keyed HMAC, so a reader of the table cannot confirm a guessed
   * email address by hashing it; without, plain SHA-256.
   */
  digest?(text: string): string;
}

export const plainCodec: Codec = {
  encode: (value) => value,
  decode: (stored) => stored,
};
