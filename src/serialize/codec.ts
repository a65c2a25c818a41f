/**
 * How captures and results are stored. The default stores superjson's
 * payload as-is; encryption at rest swaps in a codec that seals it.
 */
export interface Codec {
  encode(value: unknown): unknown;
  decode(stored: unknown): unknown;
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
