import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { createDashboardHandler } from "../../src/dashboard/index.js";
import { eventually, testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";

// The overview's run-time sections: schedules (pause, resume, retime) and queues added at run time (add, remove).

const csrfOf = (page: string) => /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1]!;

describe("dashboard: schedules and runtime queues", () => {
  it("shows cron entries with their next run and pauses, retimes and resumes them; adds and removes a queue", async () => {
    const db = await testDatabase();
    const node = await db.start({ pollInterval: 200 });
    node.cron("*/5 * * * *", t.cronTick, {}, { name: "digest" });
    await eventually("the entry to be declared", async () => (await node.schedules.list()).length === 1);
    const handler = createDashboardHandler({ instance: node });
    const server = createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const post = async (action: string, fields: Record<string, string>) => {
      const page = await (await fetch(`${url}/`)).text();
      const res = await fetch(`${url}/actions/${action}`, {
        method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrfOf(page), return: "/", ...fields }),
      });
      expect(res.status).toBe(303);
      return decodeURIComponent(res.headers.get("location")!.replace(/\+/g, " "));
    };
    try {
      const page = await (await fetch(`${url}/`)).text();
      expect(page).toMatch(/<tr data-schedule="digest">[\s\S]*<code>\*\/5 \* \* \* \*<\/code>[\s\S]*UTC[\s\S]*<time/);
      expect(await post("schedule-pause", { name: "digest" })).toContain("Schedule digest: paused.");
      expect((await node.schedules.list())[0]).toMatchObject({ paused: true });
      expect(await post("schedule-retime", { name: "digest", expression: "0 6 * * *" })).toContain("Schedule digest: 0 6 * * *.");
      expect(await post("schedule-resume", { name: "digest" })).toContain("resumed");
      expect((await node.schedules.list())[0]).toMatchObject({ paused: false, expression: "0 6 * * *", retimed: true });
      expect(await fetch(`${url}/`).then((r) => r.text())).toContain("retimed; code: <code>*/5 * * * *</code>");
      expect(await post("schedule-retime", { name: "digest", expression: "" })).toContain("(as in code)");
      await node.schedules.add("added-digest", "0 7 * * *", () => node.async(t.echo, { value: "added" }));
      expect(await fetch(`${url}/`).then((r) => r.text())).toMatch(/<tr data-schedule="added-digest">[\s\S]*added at run time[\s\S]*schedule-remove/);
      expect(await post("schedule-remove", { name: "added-digest" })).toContain("Schedule added-digest: removed.");
      expect((await node.schedules.list()).map((e) => e.name)).toEqual(["digest"]);
      expect(await post("queue-add", { queue: "exports", nodeType: "worker", concurrency: "2" })).toContain("Queue exports: added on worker nodes.");
      await eventually("the node to run the added queue", () => node.runner!.producers.has("exports"));
      expect(await fetch(`${url}/`).then((r) => r.text())).toMatch(/<code>exports<\/code> on worker nodes/);
      expect(await post("queue-remove", { queue: "exports" })).toContain("Queue exports: removed.");
      await eventually("the node to stop it", () => !node.runner!.producers.has("exports"));
      // A job's page shows its deadline, concurrency key and that a discard hook is recorded.
      const job = await node.async(t.echo, { value: 1 }, { delay: "1h", deadline: "2h", concurrency: { key: "acct-9", limit: 2 }, onDiscard: () => node.async(t.echo, { value: 2 }) });
      const jobPage = await fetch(`${url}/jobs/${job.id}`).then((r) => r.text());
      expect(jobPage).toMatch(/<dd id="deadline"><time[^>]*>in 2h<\/time>/);
      expect(jobPage).toContain('<dd id="concurrency">key <code>acct-9</code>, at most 2 at once</dd>');
      expect(jobPage).toContain('<dd id="on-discard">');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
