import { durable } from "durable-async";
import type pg from "pg";

/** A stand-in SMTP client: the first attempt for each user times out, the retry goes through. */
export async function sendWelcomeEmail(db: pg.Pool, email: string, userId: number): Promise<string> {
  const { attempt } = durable.context();
  if (attempt === 1) throw new Error(`SMTP timeout while sending to ${email}`);
  await db.query("insert into welcome_emails (user_id, email, attempt) values ($1, $2, $3)", [userId, email, attempt]);
  return `welcome email sent to ${email} on attempt ${attempt}`;
}
