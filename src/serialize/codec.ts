/**
 * How captures and results are stored. The default stores superjson's
 * payload as-is; encryption at rest swaps in a codec that seals it.
 */
export interface Codec {
  encode(value: unknown): unknown;
  decode(stored: unknown): unknown;
}

export const plainCodec: Codec = {
  encode: (value) => value,
  decode: (stored) => stored,
};
