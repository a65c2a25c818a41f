import type { NormalizedFilter } from "./filter.js";
import { waitingForNode } from "../nodes/live.js";

/**
 * Compiles a validated filter into a parameterized WHERE clause over alias
 * `j`, appending its values to `params`. The state test is always `state =
 * any(...)` so the planner prunes the partitions a filter cannot match.
 * `quotedSchema` is the schema of the nodes table, for `waitingForNode`.
 */
export function filterWhere(f: NormalizedFilter, params: unknown[], states: readonly string[] | null = f.states, quotedSchema = ""): string {
  const parts: string[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (states) parts.push(`j.state = any(${p(states)}::text[])`);
  if (f.ids) parts.push(`j.id = any(${p(f.ids)}::bigint[])`);
  if (f.queues) parts.push(`j.queue = any(${p(f.queues)}::text[])`);
  if (f.tasks) {
    const exact = f.tasks.filter((t) => !t.endsWith("*"));
    const prefixes = f.tasks.filter((t) => t.endsWith("*")).map((t) => t.slice(0, -1).replace(/[\\%_]/g, "\\$&") + "%");
    const any: string[] = [];
    if (exact.length) any.push(`j.task_id = any(${p(exact)}::text[])`);
    if (prefixes.length) any.push(`j.task_id like any(${p(prefixes)}::text[])`);
    parts.push(`(${any.join(" or ")})`);
  }
  if (f.meta) parts.push(`j.meta @> ${p(f.meta)}::jsonb`);
  if (f.tags) parts.push(`j.tags @> ${p(f.tags)}::text[]`);
  if (f.insertedFrom) parts.push(`j.inserted_at >= ${p(f.insertedFrom)}`);
  if (f.insertedTo) parts.push(`j.inserted_at < ${p(f.insertedTo)}`);
  if (f.completedFrom) parts.push(`j.completed_at >= ${p(f.completedFrom)}`);
  if (f.completedTo) parts.push(`j.completed_at < ${p(f.completedTo)}`);
  if (f.waitingForNode !== null) {
    if (!quotedSchema) throw new Error("filterWhere: waitingForNode needs the schema of the nodes table");
    parts.push(`${f.waitingForNode ? "" : "not "}${waitingForNode(quotedSchema, "j")}`);
  }
  return parts.length ? parts.join(" and ") : "true";
}
