// A rate-limited integration: on a rate-limit error the task pauses its
// queue for 1h30m and cancels the queue's pending jobs; the queue resumes on
// its own. `--pause 3s` shortens the pause so you can watch it resume.
import { durable, parseDuration } from "durable-async";
import { PHONE_QUEUE, scheduleReminderCalls } from "./calls.js";

const flag = process.argv.indexOf("--pause");
const pauseFor = flag > 0 ? process.argv[flag + 1]! : "1h30m";

// One call at a time on this node, so the order is easy to follow.
await durable.start({ nodeType: "worker", queues: { [PHONE_QUEUE]: 1 } });
// A clean slate: calls and a pause left by an earlier run of this example.
await durable.jobs.cancel({ queue: PHONE_QUEUE, state: "active" });
await durable.queues.resume(PHONE_QUEUE);
durable.on("job:stop", ({ job }) => console.log(`  patient ${job.meta.patientId}: call placed (job ${job.id})`));

const patients = Array.from({ length: 8 }, (_, i) => ({ id: i + 1, phone: `+1555000${String(i + 1).padStart(4, "0")}` }));
const jobs = await scheduleReminderCalls(patients, pauseFor);
console.log(`${jobs.length} reminder calls enqueued on ${PHONE_QUEUE}`);

// Wait for the rate limit: the queue paused and the failed call snoozed.
const ids = jobs.map((j) => j.id);
let snoozed;
do {
  await new Promise((r) => setTimeout(r, 100));
  snoozed = (await durable.jobs.list({ ids, state: "scheduled" })).jobs[0];
} while (!snoozed);
const queue = (await durable.queues.list()).find((q) => q.name === PHONE_QUEUE);
console.log(`${PHONE_QUEUE} is paused (${queue?.paused}) until ${queue?.pausedUntil?.toISOString()}`);

if (parseDuration("pause", pauseFor) > 60_000) {
  console.log(`it resumes by itself at that time, on whichever node is running; job ${snoozed.id} is the first call then.`);
} else {
  const result = await durable.await<string>(snoozed.id, { timeout: parseDuration("pause", pauseFor) + 30_000 });
  const after = (await durable.queues.list()).find((q) => q.name === PHONE_QUEUE);
  console.log(`${PHONE_QUEUE} resumed on its own (paused: ${after?.paused}); the snoozed call went through: ${result}`);
}
const counts = await durable.jobs.countByState({ ids });
console.log(`calls: ${counts.completed} completed, ${counts.cancelled} cancelled, ${counts.scheduled} waiting for the pause to end`);
await durable.stop();
