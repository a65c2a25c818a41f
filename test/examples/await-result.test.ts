import { afterEach, describe, expect, it } from "vitest";
import { assertEnqueued, stopTestingMode, useTestingMode } from "durable-async/testing";
import { testDatabase } from "../support/db.js";
import { importTransformed, runExample } from "../support/examples.js";

afterEach(() => stopTestingMode());

describe("examples/await-result", { timeout: 180_000 }, () => {
  it("runs: an API node awaits results rendered by a separate worker process", async () => {
    const db = await testDatabase();
    const run = await runExample("await-result", { schema: db.schema });
    expect(run.code, run.stderr).toBe(0);
    const apiPid = Number(/\[api (\d+)\] started/.exec(run.stdout)![1]);
    const workerPid = Number(/\[worker (\d+)\] ready/.exec(run.stdout)![1]);
    expect(workerPid).not.toBe(apiPid);
    expect(run.stdout).toContain("(DURABLE_AWAIT_TIMEOUT); the job keeps running");
    const { rows } = await db.pool.query(`select state, queue, meta, result->'json'->>'renderedBy' as by from ${db.q}.jobs order by id`);
    expect(rows).toEqual([1001, 1002, 1003].map((orderId) => ({ state: "completed", queue: "ad_hoc_worker", meta: { orderId }, by: String(workerPid) })));
  });

  it("durable.run returns the closure's value, Dates intact (durable-async/testing inline)", async () => {
    const [{ invoiceNow }] = await importTransformed<[typeof import("../../examples/await-result/invoices.js")]>("await-result", ["invoices.ts"]);
    useTestingMode("inline");
    const invoice = await invoiceNow(7);
    expect(invoice).toMatchObject({ orderId: 7, url: "https://files.example/invoices/7.pdf", renderedBy: process.pid });
    expect(invoice.renderedAt).toBeInstanceOf(Date);
    assertEnqueued({ task: "invoiceNow", nodeType: "worker", captures: { orderId: 7 }, state: "completed" });
  });
});
