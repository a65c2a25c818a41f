import type pg from "pg";
import type { OutcomeEntry, OutcomeStore } from "./completer.js";
import { recordOutcomes } from "./queries.js";
import { hotQuery } from "../db/statements.js";
import { carriedItem, NOTIFY_PAYLOAD_BUDGET, type NotifyKey } from "../db/carried-results.js";
import { NOTIFIED_RESULT_BYTES } from "../config/limits.js";

/**
 * The done notification's result items for completed outcomes whose result
 * is small, in batch order while they fit beside the ids (the statement
 * keeps only those of jobs that did end, within the same budget).
 */
function carriedItems(key: NotifyKey, ids: string[], kinds: string[], results: Array<string | null>): Array<string | null> {
  const items: Array<string | null> = new Array(ids.length).fill(null);
  let budget = NOTIFY_PAYLOAD_BUDGET;
  for (const id of ids) budget -= id.length + 1;
  for (let i = 0; i < ids.length; i++) {
    const result = results[i]!;
    if (kinds[i] !== "completed" || (result !== null && result.length > NOTIFIED_RESULT_BYTES)) continue;
    const item = carriedItem(key, ids[i]!, result);
    budget -= Buffer.byteLength(item) + 1;
    if (budget < 0) break;
    items[i] = item;
  }
  return items;
}

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
    /** The schema's notify key when small results ride the done notification (notifyResults), else null. */
    private readonly notifyKey: NotifyKey | null,
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
    const carried = this.notifyKey ? carriedItems(this.notifyKey, ids, kinds, results) : null;
    await hotQuery(this.pool, this.name, this.text, [ids, kinds, results, errors, delays, this.nodeId, this.doneChannel, waitingFor, this.insertChannel, carried]);
  }

  async ping(): Promise<void> {
    await this.pool.query("select 1");
  }
}
