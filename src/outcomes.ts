import { formatDuration, parseDuration } from "./config/duration.js";

// Thrown from a closure to steer the job instead of failing it. Recognised by
// a brand rather than by class identity, so an outcome thrown through another
// copy of this package (bundles, monorepos) still counts.

const OUTCOME = Symbol.for("durable-async.outcome");
type Kind = "discard" | "cancel" | "snooze";

function branded(kind: Kind) {
  return (value: unknown): boolean => typeof value === "object" && value !== null && (value as any)[OUTCOME] === kind;
}

/** Ends the job as discarded now, without further attempts. */
export class Discard extends Error {
  readonly [OUTCOME] = "discard" as const;
  constructor(reason = "discarded by the task") {
    super(reason);
    this.name = "Discard";
  }
  static [Symbol.hasInstance] = branded("discard");
}

/** Ends the job as cancelled. */
export class Cancel extends Error {
  readonly [OUTCOME] = "cancel" as const;
  constructor(reason = "cancelled by the task") {
    super(reason);
    this.name = "Cancel";
  }
  static [Symbol.hasInstance] = branded("cancel");
}

/** Re-schedules the job after a delay; does not count as an attempt. */
export class Snooze extends Error {
  readonly [OUTCOME] = "snooze" as const;
  readonly delayMs: number;
  constructor(delay: string | number) {
    const delayMs = parseDuration("Snooze delay", delay);
    super(`snoozed for ${formatDuration(delayMs)}`);
    this.name = "Snooze";
    this.delayMs = delayMs;
  }
  static [Symbol.hasInstance] = branded("snooze");
}
