import { durable } from "durable-async";
import { appDb } from "./db.js";

export async function replyToUnknownSender(orgId: number, sender: string, subject: string): Promise<string> {
  await appDb().query("insert into unknown_sender_replies (org_id, sender, subject) values ($1, $2, $3)", [orgId, sender, subject]);
  return `replied to ${sender}: "We don't recognise this address; please call the clinic."`;
}

/**
 * An inbound email from an address the org does not know gets one automatic
 * reply, at most once per 24 hours per (sender, org), however many emails
 * arrive. A second call within the window inserts nothing and returns the
 * first job (conflict: true). maxAttempts 1: a reply is never sent twice.
 */
export async function onInboundEmail(orgId: number, sender: string, subject: string) {
  const { rowCount } = await appDb().query("select 1 from known_senders where org_id = $1 and email = $2", [orgId, sender]);
  if (rowCount) return null;
  return durable.async(() => replyToUnknownSender(orgId, sender, subject), {
    maxAttempts: 1,
    meta: { sender, orgId },
    unique: { by: ["meta"], period: "24h" },
  });
}
