import type pg from "pg";
import type { ClaimedJob } from "./claimed-job.js";
import { claimLimited, hasLimits } from "./limits.js";
import type { JobSource, QueueControl } from "./producer.js";
import { fetchJobs, releaseJobs } from "./queries.js";
import { statement } from "../db/statements.js";

/** A producer's jobs from the jobs_active partition: the one-statement claim, or the locked one under cluster-wide limits. */
export class PgJobSource implements JobSource {
  private readonly fetchText: string;
  private readonly fetchName: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly quotedSchema: string,
    private readonly queue: string,
    private readonly nodeId: string,
    /** The most bytes of captures and meta one claim brings in (the first job always comes). */
    private readonly maxClaimBytes: number,
  ) {
    this.fetchText = fetchJobs(quotedSchema);
    this.fetchName = `durable-fetch-${quotedSchema}`;
  }

  async claim(demand: number, keys: string[], control: QueueControl): Promise<{ jobs: ClaimedJob[]; waitMs: number | null }> {
    if (hasLimits(control)) return claimLimited(this.pool, this.quotedSchema, this.queue, keys, demand, this.nodeId, control, this.maxClaimBytes);
    const { rows } = await this.pool.query(statement(this.pool, this.fetchName, this.fetchText, [this.queue, keys, demand, this.nodeId, this.maxClaimBytes]));
    return { jobs: rows as ClaimedJob[], waitMs: null };
  }

  async release(ids: string[]): Promise<void> {
    await this.pool.query(releaseJobs(this.quotedSchema), [ids, this.nodeId]);
  }
}
