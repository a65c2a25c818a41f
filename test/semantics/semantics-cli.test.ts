import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { databaseUrl, eventually, testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";
import { runToEnd, type Run } from "../support/run-to-end.js";

// `durable queues add|remove|resize` and `durable schedules list|pause|resume|retime`, the built binary against a real database.
const BIN = join(process.cwd(), "dist/src/cli/bin.js");

function durable(args: string[]): Promise<Run> {
  return runToEnd([BIN, ...args], { env: { ...process.env, DATABASE_URL: databaseUrl(), NO_COLOR: "1" } });
}

describe("CLI: runtime queues and schedules", () => {
  it("adds, resizes, lists and removes a queue; lists, pauses, retimes and resumes a schedule", async () => {
    const db = await testDatabase();
    const node = await db.start({ pollInterval: 200 });
    node.cron("*/5 * * * *", t.cronTick, {}, { name: "reports" });
    const s = ["--schema", db.schema];
    expect(await durable(["queues", "add", "exports", "--node-type", "worker", "--concurrency", "2", ...s])).toMatchObject({ code: 0, stdout: "Added exports on worker nodes.\n" });
    await eventually("the node to run the queue", () => node.runner!.producers.has("exports"));
    expect(await durable(["queues", "resize", "exports", "4", ...s])).toMatchObject({ code: 0 });
    const list = await durable(["queues", "list", "--json", ...s]);
    expect(JSON.parse(list.stdout).find((q: any) => q.name === "exports")).toMatchObject({ nodeType: "worker", concurrency: 4 });
    expect(await durable(["queues", "remove", "exports", ...s])).toMatchObject({ code: 0, stdout: "Removed exports.\n" });
    await eventually("the node to stop the queue", () => !node.runner!.producers.has("exports"));
    const refused = await durable(["queues", "remove", "ad_hoc_worker", ...s]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/was not added with durable.queues.add/);

    await eventually("the entry to be declared", async () => (await durable(["schedules", "list", ...s])).stdout.includes("reports"));
    const table = (await durable(["schedules", "list", ...s])).stdout;
    expect(table).toMatch(/reports\s+\*\/5 \* \* \* \*\s+UTC\s+active\s+\d{4}-/);
    expect((await durable(["schedules", "pause", "reports", ...s])).stdout).toBe("Paused reports: paused (*/5 * * * *, UTC).\n");
    const retimed = await durable(["schedules", "retime", "reports", "0 3 * * *", ...s]);
    expect(retimed.stdout).toMatch(/^Retimed reports: paused \(0 3 \* \* \*, declared \*\/5 \* \* \* \*, UTC\)/);
    expect((await durable(["schedules", "resume", "reports", ...s])).stdout).toMatch(/^Resumed reports: next run \d{4}-\d\d-\d\dT03:00:00.000Z/);
    const json = JSON.parse((await durable(["schedules", "list", "--json", ...s])).stdout);
    expect(json[0]).toMatchObject({ name: "reports", expression: "0 3 * * *", retimed: true, paused: false });
    expect((await durable(["schedules", "retime", "reports", "--reset", ...s])).stdout).toMatch(/^Retimed reports: next run .* \(\*\/5 \* \* \* \*, UTC\)/);
    expect((await durable(["schedules", "retime", "reports", ...s])).code).toBe(2);
    await node.schedules.add("added-report", "0 4 * * *", () => node.async(t.echo, { value: "added" }));
    expect((await durable(["schedules", "list", ...s])).stdout).toMatch(/added-report\s+0 4 \* \* \*\s+UTC\s+active\s+\d{4}-.*semantics#echo\s+added/);
    const codeRefused = await durable(["schedules", "remove", "reports", ...s]);
    expect(codeRefused.code).not.toBe(0);
    expect(codeRefused.stderr).toMatch(/declared in code with durable.cron\(\)/);
    expect(await durable(["schedules", "remove", "added-report", ...s])).toMatchObject({ code: 0, stdout: "Removed added-report.\n" });
    const job = await node.async(t.echo, { value: 1 }, { delay: "1h", deadline: "2h", concurrency: { key: "acct-1" }, onDiscard: () => node.async(t.echo, { value: 2 }) });
    const shown = (await durable(["jobs", "show", job.id, ...s])).stdout;
    expect(shown).toMatch(/^deadline: +\d{4}-.* \(not started by then: discarded\)$/m);
    expect(shown).toMatch(/^concurrency: key acct-1, at most 1 at once$/m);
    expect(shown).toMatch(/^on discard: +a hook job is inserted/m);
  });
});
