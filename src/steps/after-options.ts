import { describe } from "../config/duration.js";
import { jobIdText } from "../config/job-id.js";
import { InvalidOptionError } from "../errors.js";

/** What happens to a job whose `after` dependency was discarded or cancelled. */
export type AfterFailure = "cancel" | "run";

export interface NormalizedAfter {
  /** Ids of the jobs this one runs after, deduplicated. */
  after: string[];
  afterFailure: AfterFailure;
}

const MAX_DEPENDENCIES = 1_000;

/** `{ after: [jobA, jobB], afterFailure }` → ids and the policy; undefined without `after`. */
export function normalizeAfter(after: unknown, afterFailure: unknown): NormalizedAfter | undefined {
  if (after === undefined) {
    if (afterFailure !== undefined) throw new InvalidOptionError("afterFailure", "applies only with `after: [job, …]`; add `after` or drop it.");
    return undefined;
  }
  if (!Array.isArray(after) || after.length === 0 || after.length > MAX_DEPENDENCIES) {
    throw new InvalidOptionError("after", `expected an array of 1 to ${MAX_DEPENDENCIES} job handles or ids (await durable.async() first), got ${describe(after)}.`);
  }
  const ids = after.map((job, i) => {
    const id = jobIdText(job) ?? (typeof job === "object" && job !== null ? jobIdText((job as { id?: unknown }).id) : null);
    if (id === null) {
      const hint = job instanceof Promise ? " It is a promise: await durable.async() before passing its handle." : "";
      throw new InvalidOptionError(`after[${i}]`, `expected a job handle or id, got ${describe(job)}.${hint}`);
    }
    return id;
  });
  if (afterFailure !== undefined && afterFailure !== "cancel" && afterFailure !== "run") {
    throw new InvalidOptionError("afterFailure", `expected "cancel" (the default: a failed dependency cancels this job) or "run" (run it anyway), got ${describe(afterFailure)}.`);
  }
  return { after: [...new Set(ids)], afterFailure: (afterFailure as AfterFailure | undefined) ?? "cancel" };
}
