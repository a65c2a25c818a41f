import type pg from "pg";
import type { ClaimedJob } from "./claimed-job.js";
import { claimLimited, hasLimits } from "./limits.js";
import { claimKeyed } from "./key-claim.js";
import { withTransaction } from "../db/tx.js";
import type { JobSource, QueueControl } from "./producer.js";
import { fetchJobs, releaseJobs } from "./queries.js";
import { hotQuery } from "../db/statements.js";

/** A producer's jobs from the jobs_active partition: the one-statement claim, or the locked one under cluster-wide limits. */
export class PgJobSource implements JobSource {
  private readonly fetchText: string;
  private readonly fetchName: string;
  /**
   * Whether jobs with a concurrency key may be due in this queue. The keyed
   * claim costs a transaction, so it runs only while they may be: from the
   * start, after each poll (expectKeyed), and while the last keyed claim saw some.
   */
  private keyedDue = true;

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

  /** `active`: false once the producer stopped, so a claim of two statements does not start its second (it would take jobs only to hand them back). */
  async claim(demand: number, keys: string[], control: QueueControl, active: () => boolean = () => true): Promise<{ jobs: ClaimedJob[]; waitMs: number | null; keyedWaiting: boolean }> {
    if (hasLimits(control)) {
      const limited = await claimLimited(this.pool, this.quotedSchema, this.queue, keys, demand, this.nodeId, control, this.maxClaimBytes, this.keyedDue);
      this.keyedDue = limited.keyedDue;
      return { ...limited, keyedWaiting: limited.keyedDue };
    }
    let keyed: ClaimedJob[] = [];
    if (this.keyedDue) {
      const claim = await withTransaction(this.pool, (client) => claimKeyed(client, this.quotedSchema, this.queue, keys, demand, this.nodeId, this.maxClaimBytes));
      this.keyedDue = claim.keyedDue;
      keyed = claim.jobs;
    }
    const rest = demand - keyed.length;
    if (rest <= 0 || !active()) return { jobs: keyed, waitMs: null, keyedWaiting: this.keyedDue };
    const { rows } = await hotQuery(this.pool, this.fetchName, this.fetchText, [this.queue, keys, rest, this.nodeId, this.maxClaimBytes]);
    return { jobs: keyed.length === 0 ? (rows as ClaimedJob[]) : [...keyed, ...(rows as ClaimedJob[])], waitMs: null, keyedWaiting: this.keyedDue };
  }

  /** Keyed jobs may have been inserted (the poll): look for them on the next claim. */
  expectKeyed(): void {
    this.keyedDue = true;
  }

  async release(ids: string[]): Promise<void> {
    await this.pool.query(releaseJobs(this.quotedSchema), [ids, this.nodeId]);
  }
}
