import { createHash } from "node:crypto";
import type { TaskMetadata } from "../contract/index.js";

/**
 * A node's build: the explicit `version` option when given, else a hash of
 * the task manifest (every task id with its body hash, as the transformer
 * wrote them). Two processes of one build agree without configuration; a
 * deploy that changes any call site is a new build.
 */
export function buildId(tasks: readonly Pick<TaskMetadata, "id" | "hash">[], version: string | null): string {
  if (version !== null) return version;
  const manifest = tasks.map((t) => `${t.id}:${t.hash}`).sort().join("\n");
  return `m-${createHash("sha256").update(manifest).digest("hex").slice(0, 12)}`;
}
