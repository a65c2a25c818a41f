import { parseDuration } from "./config/duration.js";

// Thrown from a closure to steer the job instead of failing it.

/** Ends the job as discarded now, without further attempts. */
export class Discard extends Error {
  constructor(reason = "discarded by the task") {
    super(reason);
    this.name = "Discard";
  }
}

/** Ends the job as cancelled. */
export class Cancel extends Error {
  constructor(reason = "cancelled by the task") {
    super(reason);
    this.name = "Cancel";
  }
}

/** Re-schedules the job after a delay; does not count as an attempt. */
export class Snooze extends Error {
  readonly delayMs: number;
  constructor(delay: string | number) {
    const delayMs = parseDuration("Snooze delay", delay);
    super(`snoozed for ${delayMs} ms`);
    this.name = "Snooze";
    this.delayMs = delayMs;
  }
}
