// The demo's call sites: small versions of the examples in ../. Every
// durable.async here becomes a task stub; the worker processes find them
// through discovery, though their entry (worker.ts) imports none of this.
import { durable, Discard } from "durable-async";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => console.log(`${`[${process.argv[2] ?? "api"} ${process.pid}]`.padEnd(18)}   ${line}`);

export async function sendWelcomeEmail(email: string): Promise<string> {
  const { attempt } = durable.context();
  // The stand-in SMTP server times out on Grace's first attempt: watch it retry.
  if (email.startsWith("grace") && attempt === 1) throw new Error(`SMTP timeout sending to ${email}`);
  await sleep(100);
  return `welcome email sent to ${email}`;
}

export function registerUser(email: string) {
  return durable.async(() => sendWelcomeEmail(email), { name: "welcome-email", maxAttempts: 3, backoff: { type: "fixed", delay: "1s" }, meta: { email } });
}

export async function importCsv(importId: number, rows: number): Promise<{ imported: number }> {
  const { progress } = durable.context();
  for (let done = 0; done < rows; done += 50) {
    await sleep(150);
    await progress({ done: Math.min(done + 50, rows), total: rows, message: `rows up to ${Math.min(done + 50, rows)}` });
    if ((done + 50) % 100 === 0) say(`import ${importId}: ${Math.min(done + 50, rows)}/${rows} rows`);
  }
  return { imported: rows };
}

export function startImport(importId: number, orgId: number, rows: number) {
  return durable.async(() => importCsv(importId, rows), { name: "import-csv", nodeType: "datasync", meta: { orgId, importId }, tags: ["import"] });
}

export async function replyToUnknownSender(sender: string): Promise<string> {
  await sleep(50);
  return `auto-reply sent to ${sender}`;
}

export function onInboundEmail(orgId: number, sender: string) {
  return durable.async(() => replyToUnknownSender(sender), {
    name: "reply-unknown-sender",
    maxAttempts: 1,
    meta: { sender, orgId },
    unique: { by: ["meta"], period: "24h" },
  });
}

export async function renderInvoice(orderId: number): Promise<{ orderId: number; url: string; renderedBy: number }> {
  await sleep(300);
  return { orderId, url: `https://files.example/invoices/${orderId}.pdf`, renderedBy: process.pid };
}

export function enqueueInvoice(orderId: number) {
  return durable.async(() => renderInvoice(orderId), { name: "render-invoice", meta: { orderId } });
}

export function invoiceNow(orderId: number) {
  return durable.run(() => renderInvoice(orderId), { name: "render-invoice-now", timeout: "30s", meta: { orderId } });
}

export async function sendSms(orgId: number, to: string): Promise<string> {
  await sleep(20);
  if (to.endsWith("0")) throw new Discard(`${to} is not a mobile number`);
  return `sms to ${to} accepted`;
}

export function queueSms(orgId: number, to: string) {
  return durable.async(() => sendSms(orgId, to), { name: "send-sms", meta: { orgId }, tags: ["sms"] });
}

export async function sendAppointmentReminder(patientId: number): Promise<string> {
  return `reminder sent to patient ${patientId}`;
}

export function scheduleReminder(patientId: number) {
  return durable.async(() => sendAppointmentReminder(patientId), { name: "appointment-reminder", delay: "1h", meta: { patientId } });
}

export async function pollBloodwork(orgId: number): Promise<number> {
  await sleep(100);
  return orgId;
}

export async function pollBloodworkForAllOrgs(orgIds: number[]): Promise<string[]> {
  const children = [];
  for (const orgId of orgIds) {
    children.push(await durable.async(() => pollBloodwork(orgId), { name: "poll-bloodwork", nodeType: "datasync", meta: { orgId }, unique: { by: ["task", "captures"], period: "5m" } }));
  }
  return children.map((c) => c.id);
}

export function fanOutBloodwork(orgIds: number[]) {
  return durable.async(() => pollBloodworkForAllOrgs(orgIds), { name: "bloodwork-fanout" });
}
