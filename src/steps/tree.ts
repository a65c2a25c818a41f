import type pg from "pg";
import { isEncrypted } from "../serialize/encryption.js";

// A job's place among durable steps, for `durable jobs show` and the
// dashboard's job page: its parent, what it waits for, and its journal
// (children with their states, inline values, timers, `after` dependencies).

export interface StepRelative {
  id: string;
  task_id: string;
  state: string;
}

export interface StepView {
  key: string;
  kind: "async" | "run" | "step" | "sleep" | "after";
  caller: string | null;
  /** The child job (async, run) or the dependency (after). */
  job: StepRelative | null;
  /** An inline step's recorded value as stored (the superjson payload's json), or encrypted. */
  value: { kind: "value"; value: unknown } | { kind: "encrypted"; keyId: string } | null;
  wakeAt: Date | null;
}

export interface StepTree {
  parent: StepRelative | null;
  /** Ids of the jobs a waiting job waits for. */
  waitingFor: string[];
  steps: StepView[];
  /** True when the journal holds more steps than shown. */
  truncated: boolean;
}

const SHOWN = 500;

const parentOf = (quotedSchema: string) => `
select p.id::text, p.task_id, p.state from ${quotedSchema}.steps s join ${quotedSchema}.jobs p on p.id = s.parent_id
where s.child_id = $1 and s.kind <> 'after' limit 1`;

const journalOf = (quotedSchema: string) => `
select s.step_key, s.kind, s.caller, s.value, s.wake_at, c.id::text as child_id, c.task_id as child_task, c.state as child_state
from ${quotedSchema}.steps s left join ${quotedSchema}.jobs c on c.id = s.child_id
where s.parent_id = $1
order by s.kind = 'after' desc, s.position
limit ${SHOWN + 1}`;

export async function stepTree(pool: pg.Pool, quotedSchema: string, jobId: string): Promise<StepTree> {
  const [parent, journal, waiting] = await Promise.all([
    pool.query(parentOf(quotedSchema), [jobId]),
    pool.query(journalOf(quotedSchema), [jobId]),
    // A job that stopped waiting (woken, cancelled) keeps its last list: only a waiting job waits for anything.
    pool.query(`select case when state = 'waiting' then waiting_for::text[] end as ids from ${quotedSchema}.jobs where id = $1`, [jobId]),
  ]);
  const rows = journal.rows;
  return {
    parent: parent.rows[0] ?? null,
    waitingFor: waiting.rows[0]?.ids ?? [],
    steps: rows.slice(0, SHOWN).map((r) => ({
      key: r.step_key,
      kind: r.kind,
      caller: r.caller,
      job: r.child_id ? { id: r.child_id, task_id: r.child_task, state: r.child_state } : null,
      value: r.kind !== "step" ? null : isEncrypted(r.value) ? { kind: "encrypted", keyId: String(r.value.kid) } : { kind: "value", value: r.value?.json ?? null },
      wakeAt: r.wake_at,
    })),
    truncated: rows.length > SHOWN,
  };
}
