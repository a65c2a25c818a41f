import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import { startWorkerProcess } from "../support/processes.js";
import * as t from "../support/semantics-tasks.mjs";

describe("debounce", () => {
  it("five edits within the window run once, with the last edit's captures, on one of two worker processes", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    await Promise.all([startWorkerProcess(db.schema, { concurrency: 4 }), startWorkerProcess(db.schema, { concurrency: 4 })]);
    // Paused while the edits are made, so each surely finds the job still waiting however slow the machine is.
    await api.queues.pause("ad_hoc_worker");
    const handles = [];
    for (let edit = 1; edit <= 5; edit++) {
      handles.push(await api.async(t.echo, { value: `report 9 after edit ${edit}` }, { debounce: "1500ms", meta: { reportId: 9 } }));
    }
    // Another report is its own key.
    const other = await api.async(t.echo, { value: "report 10" }, { debounce: "1500ms", meta: { reportId: 10 } });
    // Each edit pushed the due time to 1.5 s after itself: after the first insert by at least that.
    const { rows: due } = await db.pool.query(`select run_at - inserted_at >= interval '1500 milliseconds' as pushed from ${db.q}.jobs where id = $1`, [handles[0]!.id]);
    expect(due[0].pushed).toBe(true);
    await api.queues.resume("ad_hoc_worker");
    expect(new Set(handles.map((h) => h.id)).size).toBe(1);
    expect(handles.map((h) => h.conflict)).toEqual([false, true, true, true, true]);
    expect(other.id).not.toBe(handles[0]!.id);
    expect(await api.await(handles[4]!, { timeout: "20s" })).toBe("report 9 after edit 5");
    expect(await api.await(other, { timeout: "20s" })).toBe("report 10");
    const { rows } = await db.pool.query(`select count(*)::int as n, max(attempt)::int as attempts from ${db.q}.jobs`);
    expect(rows[0]).toEqual({ n: 2, attempts: 1 });
    // Once it ran, the next edit is a new job.
    const next = await api.async(t.echo, { value: "report 9 after edit 6" }, { debounce: "10ms", meta: { reportId: 9 } });
    expect(next.conflict).toBe(false);
    expect(await api.await(next, { timeout: "20s" })).toBe("report 9 after edit 6");
  });

  it("unique.replace: [\"captures\"] takes the newest values on a job still waiting", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const unique = { by: ["meta" as const], period: "1h", replace: ["captures" as const] };
    const first = await api.async(t.echo, { value: "old" }, { delay: "1h", meta: { k: 1 }, unique });
    const second = await api.async(t.echo, { value: "new" }, { meta: { k: 1 }, unique });
    expect(second).toMatchObject({ id: first.id, conflict: true });
    const { rows } = await db.pool.query(`select captures, run_at > now() + interval '50 minutes' as still_later from ${db.q}.jobs where id = $1`, [first.id]);
    expect(rows[0].captures.json).toEqual({ value: "new" });
    expect(rows[0].still_later).toBe(true); // scheduled_at not in replace: the due time stays
  });

  it("refuses debounce with delay or at", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    expect(() => api.async(t.echo, { value: 1 }, { debounce: "5s", delay: "1s" })).toThrow(/debounce.*delay/);
    expect(() => api.async(t.echo, { value: 1 }, { debounce: 0 })).toThrow(/debounce/);
  });
});
