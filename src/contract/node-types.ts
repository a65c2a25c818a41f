// Node types name the kind of process that runs a job. The transformer checks
// a literal `nodeType` against them at build time and the runtime checks
// every enqueue, so both read the same list and print the same message.
import { suggest } from "./suggest.js";

/** Built in; more come from `durable.start({ nodeTypes })` and DURABLE_NODE_TYPES. */
export const DEFAULT_NODE_TYPES = ["worker", "api", "datasync"] as const;

/** Extra node types declared in the environment (`DURABLE_NODE_TYPES=gpu,reports`), for the transformer and the runtime alike. */
export function nodeTypesFromEnv(env: Record<string, string | undefined> = process.env): string[] {
  return (env.DURABLE_NODE_TYPES ?? "").split(",").map((t) => t.trim()).filter(Boolean);
}

/** The built-in node types, those from the environment and `extra`, without repeats. */
export function knownNodeTypes(extra: readonly string[] = [], env: Record<string, string | undefined> = process.env): string[] {
  return [...new Set([...DEFAULT_NODE_TYPES, ...nodeTypesFromEnv(env), ...extra])];
}

/** `Unknown node type "wrker" (did you mean "worker"?); known: worker, api, datasync.` */
export function unknownNodeTypeMessage(nodeType: string, known: readonly string[]): string {
  const guess = suggest(nodeType, known);
  return `Unknown node type "${nodeType}"${guess ? ` (did you mean "${guess}"?)` : ""}; known: ${known.join(", ")}.`;
}
