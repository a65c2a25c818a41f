// SQL of reports. `where` comes from filterWhere() (parameterized); paging is
// keyset on id, which both partitions index, so page N costs what page 1 does
// and a stream never holds more than one page.

const COLUMNS = `j.id::text as id, j.state, j.queue, j.task_id, j.attempt, j.max_attempts, j.priority, j.meta, j.tags,
  j.inserted_at, j.run_at, j.attempted_at, j.completed_at, j.discarded_at, j.cancelled_at, j.finished_at, j.errors->-1 as last_error`;

export const listJobs = (q: string, where: string, after: string | null, limit: string, order: "asc" | "desc") => `
select ${COLUMNS} from ${q}.jobs j
where ${where}${after ? ` and j.id ${order === "asc" ? ">" : "<"} ${after}::bigint` : ""}
order by j.id ${order}
limit ${limit}`;

export const countJobs = (q: string, where: string) => `
select count(*)::bigint::text as n from ${q}.jobs j where ${where}`;

export const countByState = (q: string, where: string) => `
select j.state, count(*)::bigint::text as n from ${q}.jobs j where ${where} group by j.state`;

/** Counts per (meta value of key $k, state). */
export const countByMetaAndState = (q: string, where: string, key: string) => `
select j.meta->>${key} as key, j.state, count(*)::bigint::text as n from ${q}.jobs j
where ${where}
group by 1, 2
order by 1 nulls last`;
