import type { ServiceSpec } from "./service.js";

/**
 * The fallback for lost notifications: every poll interval, each producer
 * claims again and the queue controls are re-read, so a missed insert or
 * control notification costs latency, never correctness.
 */
export function pollerService(deps: { intervalMs: number; poll: () => Promise<void> }): ServiceSpec {
  return {
    during: "polling for jobs",
    intervalMs: deps.intervalMs,
    run: deps.poll,
  };
}
