import type { Readable } from "node:stream";
import {
  countJobs, countJobsByState, jobsCsv, listJobs, reportByMeta, reportByMetaCsv, streamJobs,
  type CsvColumn, type JobFilter, type JobPage, type JobRecord, type JobState, type MetaReportOptions, type MetaReportRow, type PageOptions,
} from "../reports/index.js";
import { pruneFinishedJobs, type PruneOptions, type PruneResult } from "../prune/index.js";
import { cancelJobs, deleteJobs, retryJobs } from "./jobs.js";
import type { TargetSource } from "./target.js";

/** durable.jobs: reports and bulk control by one JobFilter. Every method starts the instance if needed. */
export interface JobsApi {
  list(filter?: JobFilter, page?: PageOptions): Promise<JobPage>;
  /** Every matching job, a page at a time (constant memory). */
  stream(filter?: JobFilter, options?: { batchSize?: number; order?: "asc" | "desc" }): AsyncGenerator<JobRecord>;
  count(filter?: JobFilter): Promise<number>;
  countByState(filter?: JobFilter): Promise<Record<JobState, number>>;
  /** CSV of the matching jobs, streamed: `jobs.csv(filter).pipe(createWriteStream("jobs.csv"))`. */
  csv(filter?: JobFilter, options?: { columns?: CsvColumn[]; batchSize?: number }): Readable;
  /** Counts per meta value × state group (e.g. messages per org by status). */
  report(options: MetaReportOptions): Promise<MetaReportRow[]>;
  /** The same report as CSV, in one call. */
  reportCsv(options: MetaReportOptions): Promise<string>;
  /** Cancels unfinished jobs, running ones included (their signal is aborted). Returns how many. */
  cancel(filter: JobFilter): Promise<number>;
  retry(filter: JobFilter): Promise<number>;
  delete(filter: JobFilter): Promise<number>;
  /** One pruning pass now (nodes also prune on their own about once a minute). */
  prune(options?: PruneOptions): Promise<PruneResult>;
}

export function createJobsApi(target: TargetSource): JobsApi {
  return {
    list: async (filter, page) => listJobs(await target(), filter, page),
    async *stream(filter, options) {
      yield* streamJobs(await target(), filter, options);
    },
    count: async (filter) => countJobs(await target(), filter),
    countByState: async (filter) => countJobsByState(await target(), filter),
    csv: (filter, options) => jobsCsv(target, filter, options),
    report: async (options) => reportByMeta(await target(), options),
    reportCsv: async (options) => reportByMetaCsv(await target(), options),
    cancel: async (filter) => cancelJobs(await target(), filter),
    retry: async (filter) => retryJobs(await target(), filter),
    delete: async (filter) => deleteJobs(await target(), filter),
    prune: async (options) => {
      const t = await target();
      return pruneFinishedJobs(t.pool, t.quotedSchema, options);
    },
  };
}
