// Job ids are Postgres bigints. A digit string past the bigint range (or a
// number JavaScript cannot hold exactly) is refused here, by name, instead of
// reaching the server as "value out of range for type bigint".

const MAX_JOB_ID = 9_223_372_036_854_775_807n;

/** True for a job id as text: 1 to 19 digits, at most the largest bigint. */
export function isJobId(value: unknown): value is string {
  return typeof value === "string" && /^\d{1,19}$/.test(value) && BigInt(value) <= MAX_JOB_ID;
}

/** A job id as text from a string, a safe positive integer or a bigint; null when it is none of those. */
export function jobIdText(value: unknown): string | null {
  if (isJobId(value)) return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === "bigint" && value > 0n && value <= MAX_JOB_ID) return value.toString();
  return null;
}
