import type pg from "pg";
import type { OutcomeEntry, OutcomeStore } from "./completer.js";
import { recordOutcomes } from "./queries.js";
import { statement } from "../db/statements.js";

/** The completer's writes on Postgres: one statement per batch, whatever the mix of outcomes. */
export class PgOutcomeStore implements OutcomeStore {
  private readonly text: string;
  private readonly name: string;

  constructor(
    private readonly pool: pg.Pool,
    quotedSchema: string,
    private readonly nodeId: string,
    private readonly doneChannel: string,
    private readonly insertChannel: string,
  ) {
    this.text = recordOutcomes(quotedSchema);
    this.name = `durable-outcomes-${quotedSchema}`;
  }

  async write(entries: readonly OutcomeEntry[]): Promise<void> {
    const n = entries.length;
    const ids: string[] = new Array(n);
    const kinds: string[] = new Array(n);
    const results: Array<string | null> = new Array(n);
    const errors: Array<string | null> = new Array(n);
    const delays: Array<number | null> = new Array(n);
    const waitingFor: Array<string | null> = new Array(n);
    for (let i = 0; i < n; i++) {
      const { job, outcome } = entries[i]!;
      ids[i] = job.id;
      kinds[i] = outcome.kind;
      results[i] = outcome.kind === "completed" ? outcome.result : null;
      errors[i] = "error" in outcome ? JSON.stringify([outcome.error]) : null;
      delays[i] = "delayMs" in outcome ? outcome.delayMs : null;
      waitingFor[i] = outcome.kind === "suspended" ? `{${outcome.waitingFor.join(",")}}` : null;
    }
    await this.pool.query(statement(this.pool, this.name, this.text, [ids, kinds, results, errors, delays, this.nodeId, this.doneChannel, waitingFor, this.insertChannel]));
  }

  async ping(): Promise<void> {
    await this.pool.query("select 1");
  }
}
