// Task stubs for the dashboard and CLI tests, written as the transformer
// emits them (docs/INTERNALS.md), with realistic source text and callers.
import { __durableTask, durable } from "../../dist/src/index.js";

/** Order ids whose card the fake payment provider accepts; tests add to it to make a retry succeed. */
export const accepted = new Set();

export const chargeCard = __durableTask({
  id: "src/orders.ts#OrderService.charge#0",
  hash: "3f9a0c1d2e4b5a6c",
  caller: { file: "src/orders.ts", fn: "OrderService.charge", line: 42, column: 5 },
  source: "async () => {\n  const receipt = await payments.charge(order.id, order.total);\n  return receipt.id;\n}",
  captures: ["order"],
  kind: "async",
  run: async ({ order }) => {
    if (!accepted.has(order.id)) throw new Error(`card declined for order ${order.id}`);
    return `receipt-${order.id}`;
  },
});

export const sendWelcomeEmail = __durableTask({
  id: "src/users.ts#registerUser#0",
  hash: "5f0c2e9a1b7d4c3e",
  caller: { file: "src/users.ts", fn: "registerUser", line: 7, column: 3 },
  source: "() => sendWelcomeEmail(user.email, user.id)",
  captures: ["user"],
  kind: "async",
  run: ({ user }) => ({ sent: user.email }),
});

export const importCsv = __durableTask({
  id: "src/imports.ts#importCsv#0",
  hash: "9b8a7c6d5e4f3a2b",
  caller: { file: "src/imports.ts", fn: "importCsv", line: 18, column: 3 },
  source: "async () => {\n  for (const [i, row] of rows.entries()) {\n    await importRow(row);\n    await durable.context().progress({ done: i + 1, total: rows.length });\n  }\n}",
  captures: ["rows"],
  kind: "async",
  // Reports 40% and then holds until the job is cancelled or the node stops.
  run: async ({ rows }) => {
    const { progress, signal } = durable.context();
    await progress({ done: Math.round(rows * 0.4), total: rows, message: "importing rows" });
    await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
  },
});
