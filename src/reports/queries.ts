// SQL of reports. `where` comes from filterWhere() (parameterized); paging is
// keyset on id, which both partitions index, so page N costs what page 1 does
// and a stream never holds more than one page.

const COLUMNS = `j.id::text as id, j.state, j.queue, j.task_id, j.attempt, j.max_attempts, j.priority, j.meta, j.tags,
  j.inserted_at, j.run_at, j.attempted_at, j.completed_at, j.discarded_at, j.cancelled_at, j.finished_at,
  case when jsonb_typeof(j.errors) = 'array' then j.errors->-1 end as last_error`;

export const listJobs = (quotedSchema: string, where: string, after: string | null, limit: string, order: "asc" | "desc") => `
select ${COLUMNS} from ${quotedSchema}.jobs j
where ${where}${after ? ` and j.id ${order === "asc" ? ">" : "<"} ${after}::bigint` : ""}
order by j.id ${order}
limit ${limit}`;

export const countJobs = (quotedSchema: string, where: string) => `
select count(*)::bigint::text as n from ${quotedSchema}.jobs j where ${where}`;

export const countByState = (quotedSchema: string, where: string) => `
select j.state, count(*)::bigint::text as n from ${quotedSchema}.jobs j where ${where} group by j.state`;

/** Counts per (meta value of key $k, state). */
export const countByMetaAndState = (quotedSchema: string, where: string, key: string) => `
select j.meta->>${key} as key, j.state, count(*)::bigint::text as n from ${quotedSchema}.jobs j
where ${where}
group by 1, 2
order by 1 nulls last`;

const iso = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * CSV columns as SQL text, so an export parses no dates or JSON on the way
 * through (three times faster than building JobRecords). Keys are the only
 * names callers can pick; they never come from input.
 */
export const CSV_SQL: Record<string, string> = {
  id: "j.id::text", state: "j.state", queue: "j.queue", task: "j.task_id", attempt: "j.attempt", max_attempts: "j.max_attempts",
  priority: "j.priority", inserted_at: iso("j.inserted_at"), run_at: iso("j.run_at"), attempted_at: iso("j.attempted_at"),
  completed_at: iso("j.completed_at"), discarded_at: iso("j.discarded_at"), cancelled_at: iso("j.cancelled_at"),
  finished_at: iso("j.finished_at"), meta: "j.meta" /* parsed, then JSON.stringify'd: compact, like the rest of the API */, tags: "array_to_string(j.tags, ' ')", last_error: "case when jsonb_typeof(j.errors) = 'array' and jsonb_typeof(j.errors->-1) = 'object' then j.errors->-1->>'message' end",
};

/** One keyset page of CSV cells; the last cell of each row is the id to continue after. */
export const csvPage = (quotedSchema: string, columns: string[], where: string, after: string | null, limit: string) => `
select ${columns.map((c) => CSV_SQL[c]).join(", ")}, j.id::text from ${quotedSchema}.jobs j
where ${where}${after ? ` and j.id > ${after}::bigint` : ""}
order by j.id
limit ${limit}`;
