import { InvalidOptionError } from "../errors.js";
import { describe } from "../config/duration.js";
import { didYouMean } from "../contract/index.js";
import { jobIdText } from "../config/job-id.js";
import { assertStorableDate, assertStorableText, filterJson } from "../config/text.js";
import { JOB_STATES, STATE_GROUPS, type JobState, type StateGroup } from "../jobs/states.js";

// The one job filter type. Reports, queue/job control, the dashboard and the
// CLI all take a JobFilter, so "which jobs" means the same thing everywhere.

export { JOB_STATES, STATE_GROUPS, type JobState, type StateGroup };

export interface TimeRange {
  /** Inclusive lower bound. */
  from?: Date;
  /** Exclusive upper bound. */
  to?: Date;
}

export interface JobFilter {
  id?: string | number | Array<string | number>;
  /** Same as `id` (the dashboard and CLI speak of ids). */
  ids?: Array<string | number>;
  /** A state, a group ("sent", "failed", "pending", "active", "finished") or a list of them. */
  state?: JobState | StateGroup | Array<JobState | StateGroup>;
  queue?: string | string[];
  /** Task id(s), e.g. "src/users.ts#registerUser#0" or a stable `name`; a trailing * matches a prefix ("src/users.ts#*"). */
  task?: string | string[];
  /** Jobs whose meta contains this object (jsonb @>). */
  meta?: Record<string, unknown>;
  /** Jobs that carry every one of these tags. */
  tags?: string[];
  inserted?: TimeRange;
  completed?: TimeRange;
  /** Shorthand for inserted: { from: since }. */
  since?: Date;
  /** Shorthand for inserted: { to: until }. */
  until?: Date;
  /** true: only due jobs no live node can run (no node serves the queue, has the task, or runs that body hash); false: the others. */
  waitingForNode?: boolean;
  /** Bulk cancel/retry/delete refuse an empty filter unless it says `all: true`. */
  all?: boolean;
}

export interface NormalizedFilter {
  ids: string[] | null;
  states: JobState[] | null;
  queues: string[] | null;
  tasks: string[] | null;
  meta: string | null;
  tags: string[] | null;
  insertedFrom: Date | null;
  insertedTo: Date | null;
  completedFrom: Date | null;
  completedTo: Date | null;
  waitingForNode: boolean | null;
}

const FILTER_KEYS = ["id", "ids", "state", "queue", "task", "meta", "tags", "inserted", "completed", "since", "until", "waitingForNode", "all"];

const strings = (option: string, value: unknown, example: string): string[] => {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((v) => typeof v !== "string" || v.length === 0)) {
    throw new InvalidOptionError(option, `expected a non-empty string or array of strings like ${example}, got ${describe(value)}.`);
  }
  return (list as string[]).map((text) => assertStorableText(option, text));
};

const date = (option: string, value: unknown): Date | null => {
  if (value === undefined) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidOptionError(option, `expected a valid Date, got ${describe(value)}. Pass e.g. new Date(Date.now() - 86_400_000).`);
  }
  return assertStorableDate(option, value);
};

function range(option: string, value: unknown): [Date | null, Date | null] {
  if (value === undefined) return [null, null];
  if (typeof value !== "object" || value === null || value instanceof Date || Array.isArray(value)) {
    throw new InvalidOptionError(option, `expected { from?: Date, to?: Date }, got ${describe(value)}.`);
  }
  for (const key of Object.keys(value)) {
    if (key !== "from" && key !== "to") throw new InvalidOptionError(`${option}.${key}`, `is not a range bound; use \`from\` (inclusive) and \`to\` (exclusive).`);
  }
  const r = value as TimeRange;
  return [date(`${option}.from`, r.from), date(`${option}.to`, r.to)];
}

export function expandStates(option: string, value: unknown): JobState[] {
  const names = strings(option, value, `"completed" or ["sent", "failed"]`);
  const states = new Set<JobState>();
  for (const name of names) {
    if ((JOB_STATES as readonly string[]).includes(name)) states.add(name as JobState);
    else if (name in STATE_GROUPS) for (const s of STATE_GROUPS[name as StateGroup]) states.add(s);
    else throw new InvalidOptionError(option, `unknown state ${JSON.stringify(name)}.${didYouMean(name, [...JOB_STATES, ...Object.keys(STATE_GROUPS)])}`);
  }
  return [...states];
}

/** Validates a filter; every bad key or value names itself and the fix. */
export function normalizeFilter(input: unknown, option = "filter"): NormalizedFilter {
  if (input === undefined || input === null) input = {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new InvalidOptionError(option, `expected a filter object like { queue: "ad_hoc_worker", state: "failed" }, got ${describe(input)}.`);
  }
  const f = input as Record<string, unknown>;
  for (const key of Object.keys(f)) {
    if (!FILTER_KEYS.includes(key)) throw new InvalidOptionError(`${option}.${key}`, `is not a job filter key.${didYouMean(key, FILTER_KEYS)}`);
  }
  let ids: string[] | null = null;
  if (f.id !== undefined && f.ids !== undefined) throw new InvalidOptionError(`${option}.ids`, "and `id` both select jobs by id; use one of them.");
  const idValue = f.id ?? f.ids;
  if (idValue !== undefined) {
    const list = Array.isArray(idValue) ? idValue : [idValue];
    ids = list.map((v) => {
      const id = jobIdText(v);
      if (id !== null) return id;
      throw new InvalidOptionError(`${option}.id`, `expected job ids (digit strings like "42", at most 9223372036854775807), got ${describe(v)}.`);
    });
  }
  let meta: string | null = null;
  if (f.meta !== undefined) {
    if (typeof f.meta !== "object" || f.meta === null || Array.isArray(f.meta)) {
      throw new InvalidOptionError(`${option}.meta`, `expected an object to match by containment like { orgId: 42 }, got ${describe(f.meta)}.`);
    }
    meta = filterJson(`${option}.meta`, f.meta);
  }
  if (f.tags !== undefined && (!Array.isArray(f.tags) || f.tags.some((t) => typeof t !== "string"))) {
    throw new InvalidOptionError(`${option}.tags`, `expected an array of tags like ["import"], got ${describe(f.tags)}.`);
  }
  (f.tags as string[] | undefined)?.forEach((tag, i) => assertStorableText(`${option}.tags[${i}]`, tag));
  const [insertedFrom, insertedTo] = range(`${option}.inserted`, f.inserted);
  const [completedFrom, completedTo] = range(`${option}.completed`, f.completed);
  const since = date(`${option}.since`, f.since);
  const until = date(`${option}.until`, f.until);
  if (f.waitingForNode !== undefined && typeof f.waitingForNode !== "boolean") {
    throw new InvalidOptionError(`${option}.waitingForNode`, `expected true (only jobs no live node can run) or false, got ${describe(f.waitingForNode)}.`);
  }
  if ((since && insertedFrom) || (until && insertedTo)) {
    throw new InvalidOptionError(`${option}.since`, "and `inserted` both bound the insert time; use one of them.");
  }
  return {
    ids,
    states: f.state === undefined ? null : expandStates(`${option}.state`, f.state),
    queues: f.queue === undefined ? null : strings(`${option}.queue`, f.queue, `"ad_hoc_worker"`),
    tasks: f.task === undefined ? null : strings(`${option}.task`, f.task, `"import-csv"`),
    meta,
    tags: f.tags === undefined || (f.tags as string[]).length === 0 ? null : (f.tags as string[]),
    insertedFrom: insertedFrom ?? since,
    insertedTo: insertedTo ?? until,
    completedFrom,
    completedTo,
    waitingForNode: (f.waitingForNode as boolean | undefined) ?? null,
  };
}

/** Narrows a filter's states to those an operation applies to (e.g. cancel only touches unfinished jobs). */
export function restrictStates(filter: NormalizedFilter, allowed: readonly JobState[]): JobState[] {
  return filter.states ? filter.states.filter((s) => allowed.includes(s)) : [...allowed];
}
