// Replacing `setImmediate(() => sendWelcomeEmail(...))` with durable.async:
// the email is a job in Postgres, retried when it fails, visible, awaitable.
import { durable } from "durable-async";
import { createTables } from "./db.js";
import { registerUser } from "./users.js";

await durable.start({ nodeType: "worker" });
durable.on("job:error", ({ job, state, error }) => console.log(`  attempt ${job.attempt} of job ${job.id} failed (${error.message}); now ${state}`));
await createTables();

const users = [
  { email: "ada@example.com", name: "Ada" },
  { email: "grace@example.com", name: "Grace" },
];
for (const input of users) {
  const { user, job } = await registerUser(input);
  const handle = await job;
  console.log(`registered ${user.email} (user ${user.id}); welcome email is job ${handle.id}`);
  console.log(`  ${await durable.await(handle, { timeout: "30s" })}`);
}
await durable.stop();
