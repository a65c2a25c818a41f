import { durable, Snooze } from "durable-async";
import { dial, RateLimitError } from "./phone-api.js";

export const PHONE_QUEUE = "phone_calls";

/**
 * On a rate-limit error the whole queue stops for `pauseFor` on every node
 * (persisted, so it resumes by itself), the calls still waiting are cancelled
 * (they are stale by then; tomorrow's batch replaces them), and this call is
 * snoozed past the pause, so it is the first one made afterwards.
 */
export async function placeReminderCall(patientId: number, phone: string, pauseFor: string): Promise<string> {
  try {
    return await dial(phone);
  } catch (error) {
    if (!(error instanceof RateLimitError)) throw error;
    await durable.queues.pause(PHONE_QUEUE, { for: pauseFor });
    const cancelled = await durable.jobs.cancel({ queue: PHONE_QUEUE, state: ["available", "scheduled", "retryable"] });
    console.log(`  patient ${patientId}: rate limited; ${PHONE_QUEUE} paused for ${pauseFor}, ${cancelled} waiting calls cancelled, this one snoozed`);
    throw new Snooze(pauseFor);
  }
}

export async function scheduleReminderCalls(patients: Array<{ id: number; phone: string }>, pauseFor = "1h30m") {
  const jobs = [];
  for (const patient of patients) {
    jobs.push(await durable.async(() => placeReminderCall(patient.id, patient.phone, pauseFor), {
      queue: PHONE_QUEUE,
      maxAttempts: 3,
      meta: { patientId: patient.id },
    }));
  }
  return jobs;
}
