import { durable, Discard } from "durable-async";

/** A stand-in SMS provider: numbers ending in 0 do not exist. */
export async function sendSms(orgId: number, to: string, body: string): Promise<string> {
  await new Promise((r) => setTimeout(r, 5));
  if (to.endsWith("0")) throw new Discard(`${to} is not a mobile number`);
  return `sms to ${to} for org ${orgId} (${body.length} chars) accepted`;
}

export function queueSms(orgId: number, to: string, body: string) {
  return durable.async(() => sendSms(orgId, to, body), {
    name: "send-sms",
    maxAttempts: 3,
    meta: { orgId, channel: "sms" },
    tags: ["sms"],
  });
}
