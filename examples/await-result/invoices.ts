import { durable } from "durable-async";

export interface Invoice {
  orderId: number;
  url: string;
  renderedBy: number;
  renderedAt: Date;
}

/** Runs on a worker process: renders the PDF and returns where it is. */
export async function renderInvoice(orderId: number, ms = 200): Promise<Invoice> {
  await new Promise((r) => setTimeout(r, ms));
  return { orderId, url: `https://files.example/invoices/${orderId}.pdf`, renderedBy: process.pid, renderedAt: new Date() };
}

export function enqueueInvoice(orderId: number, ms?: number) {
  return durable.async(() => renderInvoice(orderId, ms), { nodeType: "worker", meta: { orderId } });
}

export function invoiceNow(orderId: number) {
  return durable.run(() => renderInvoice(orderId), { nodeType: "worker", timeout: "30s", meta: { orderId } });
}
