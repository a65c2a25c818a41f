import type { ServiceSpec } from "./service.js";

/**
 * Aborts closures whose job was cancelled elsewhere. The done notification
 * does this at once; this pass is the fallback when a notification was lost.
 */
export function cancelledJobsService(deps: { intervalMs: number; abortCancelled: () => Promise<void> }): ServiceSpec {
  return {
    during: "checking for cancelled jobs",
    intervalMs: deps.intervalMs,
    whileJobsRun: true,
    run: deps.abortCancelled,
  };
}
