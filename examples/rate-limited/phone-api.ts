/** What the telephony provider answers with HTTP 429. */
export class RateLimitError extends Error {
  constructor(readonly retryAfter: string) {
    super(`429 Too Many Requests (retry after ${retryAfter})`);
    this.name = "RateLimitError";
  }
}

let calls = 0;

/** A stand-in for the provider: the fourth call in this process hits its rate limit. */
export async function dial(phone: string): Promise<string> {
  calls++;
  await new Promise((r) => setTimeout(r, 30));
  if (calls === 4) throw new RateLimitError("1h30m");
  return `call-${calls}-${phone.slice(-4)}`;
}
