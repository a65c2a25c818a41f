import type { ServiceSpec } from "./service.js";

/**
 * Re-reads which task versions this node may claim: other nodes record new
 * body hashes in the tasks table, and the body-hash policy may accept them.
 */
export function taskRefreshService(deps: { intervalMs: number; refresh: () => Promise<void> }): ServiceSpec {
  return {
    during: "refreshing task versions",
    intervalMs: deps.intervalMs,
    run: deps.refresh,
  };
}
