// Reports: list, stream, count and export jobs by one filter type.
// The dashboard and CLI call these same functions.
export { JOB_STATES, STATE_GROUPS, normalizeFilter, expandStates, type JobFilter, type JobState, type StateGroup, type TimeRange, type NormalizedFilter } from "./filter.js";
export { filterWhere } from "./filter-sql.js";
export { listJobs, streamJobs, countJobs, countJobsByState, type JobRecord, type JobPage, type PageOptions } from "./jobs.js";
export { jobsCsv, csvCell, CSV_COLUMNS, type CsvColumn } from "./csv.js";
export { finiteDate, lastErrorOf, recordedErrors, textOf, timeText, SHOW_LIMIT, type Timestamp } from "./row-values.js";
export { reportByMeta, reportByMetaCsv, type MetaReportOptions, type MetaReportRow } from "./by-meta.js";
