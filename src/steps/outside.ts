import { describe, parseDuration } from "../config/duration.js";
import { InvalidOptionError } from "../errors.js";
import { roundTrip, serializeChecked } from "../serialize/values.js";

// durable.step() and durable.sleep() where no job journals them: plain
// code, a script, the testing modes. A step still round-trips its value
// through serialization, so a test catches a value a real journal could not
// record (a function, a class instance).

export async function inlineStep(fn: unknown): Promise<unknown> {
  if (typeof fn !== "function") throw new InvalidOptionError("fn", `durable.step() expects a function like () => chargeCard(user.id), got ${describe(fn)}.`);
  return roundTrip(serializeChecked(await (fn as () => unknown)(), "result", "durable.step()"));
}

export function sleepOutsideJob(duration: unknown): Promise<void> {
  const ms = parseDuration("duration", duration);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
