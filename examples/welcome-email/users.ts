import { durable } from "durable-async";
import { appDb } from "./db.js";
import { sendWelcomeEmail } from "./mailer.js";

export interface NewUser {
  email: string;
  name: string;
}

export async function registerUser(input: NewUser) {
  const { rows } = await appDb().query<{ id: number; email: string }>(
    "insert into users (email, name) values ($1, $2) returning id, email",
    [input.email, input.name],
  );
  const user = rows[0]!;
  // Before: setImmediate(() => sendWelcomeEmail(user.email, user.id)) — lost on a crash, never retried.
  const job = durable.async(() => sendWelcomeEmail(appDb(), user.email, user.id), {
    maxAttempts: 5,
    backoff: { type: "fixed", delay: "300ms" },
    meta: { userId: user.id },
    tags: ["welcome"],
  });
  return { user, job };
}
