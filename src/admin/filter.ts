import { InvalidOptionError } from "../errors.js";
import { didYouMean } from "../config/suggest.js";

// The job filter shared by the dashboard and the CLI. It mirrors the report
// filter of durable.jobs (issue 4) so both surfaces can hand it over as is.

export const JOB_STATES = ["available", "scheduled", "executing", "retryable", "completed", "discarded", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** State groups, as the reports name them. */
export const STATE_GROUPS: Record<string, JobState[]> = {
  pending: ["available", "scheduled", "retryable"],
  sent: ["completed"],
  failed: ["discarded", "cancelled"],
  active: ["available", "scheduled", "executing", "retryable"],
  finished: ["completed", "discarded", "cancelled"],
};

export interface JobFilter {
  ids?: string[];
  state?: string | string[];
  queue?: string | string[];
  task?: string;
  /** jsonb containment: { orgId: 42 } matches jobs whose meta holds orgId 42. */
  meta?: Record<string, unknown>;
  /** Jobs carrying all these tags. */
  tags?: string[];
  /** Inserted at or after. */
  since?: Date;
  /** Inserted before. */
  until?: Date;
}

/** Expands groups and rejects unknown states with a suggestion. */
export function normalizeStates(state: string | string[] | undefined, option = "state"): JobState[] | undefined {
  if (state === undefined) return undefined;
  const list = (Array.isArray(state) ? state : String(state).split(",")).map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) return undefined;
  const out = new Set<JobState>();
  const known = [...JOB_STATES, ...Object.keys(STATE_GROUPS)];
  for (const s of list) {
    if ((JOB_STATES as readonly string[]).includes(s)) out.add(s as JobState);
    else if (STATE_GROUPS[s]) for (const g of STATE_GROUPS[s]!) out.add(g);
    else throw new InvalidOptionError(option, `unknown state "${s}".${didYouMean(s, known)}`);
  }
  return [...out];
}

/** Builds a parameterized WHERE clause; values go to `params`, never into the text. */
export function filterSql(filter: JobFilter, params: unknown[], alias = "j"): string {
  const where: string[] = [];
  const add = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.ids?.length) where.push(`${alias}.id = any(${add(filter.ids)}::bigint[])`);
  const states = normalizeStates(filter.state);
  if (states) where.push(`${alias}.state = any(${add(states)}::text[])`);
  if (filter.queue !== undefined) {
    const queues = Array.isArray(filter.queue) ? filter.queue : [filter.queue];
    if (queues.length) where.push(`${alias}.queue = any(${add(queues)}::text[])`);
  }
  if (filter.task) {
    // A trailing * matches a task id prefix (every call site of a module).
    if (filter.task.endsWith("*")) where.push(`${alias}.task_id like ${add(filter.task.slice(0, -1).replace(/[\\%_]/g, "\\$&") + "%")}`);
    else where.push(`${alias}.task_id = ${add(filter.task)}`);
  }
  if (filter.meta && Object.keys(filter.meta).length) where.push(`${alias}.meta @> ${add(JSON.stringify(filter.meta))}::jsonb`);
  if (filter.tags?.length) where.push(`${alias}.tags @> ${add(filter.tags)}::text[]`);
  if (filter.since) where.push(`${alias}.inserted_at >= ${add(filter.since)}`);
  if (filter.until) where.push(`${alias}.inserted_at < ${add(filter.until)}`);
  return where.length ? where.join(" and ") : "true";
}

/** Parses "key=value" pairs (values as JSON when they parse, else strings) into a meta filter. */
export function parseMetaPairs(pairs: string[], option = "meta"): Record<string, unknown> | undefined {
  if (pairs.length === 0) return undefined;
  const meta: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidOptionError(option, `expected key=value like orgId=42, got ${JSON.stringify(pair)}.`);
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* a bare string */
    }
    meta[key] = value;
  }
  return meta;
}
