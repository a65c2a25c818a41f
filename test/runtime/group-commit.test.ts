import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { DurableStoppedError } from "../../src/errors.js";
import { refusedByServer } from "../../src/enqueue/group-commit.js";

const values = async (db: Awaited<ReturnType<typeof testDatabase>>) =>
  (await db.pool.query(`select id::text as id, captures->'json'->>'value' as v from ${db.q}.jobs j order by j.id`)).rows as Array<{ id: string; v: string }>;

describe("group commit of concurrent durable.async() calls", () => {
  it("a lone call goes alone; calls made while it is in flight share the next insert", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const statements: number[] = [];
    d.on("job:insert", ({ jobs }) => statements.push(jobs.length));
    await d.async(tasks.echo, { value: "warm" });
    expect(statements).toEqual([1]);
    await new Promise((resolve) => setImmediate(resolve));
    const handles = await Promise.all(Array.from({ length: 40 }, (_, i) => d.async(tasks.echo, { value: `c${i}` })));
    // The first call found nothing in flight and went at once; the 39 made meanwhile went together.
    expect(statements).toEqual([1, 1, 39]);
    // Calls made again by the callers just answered (before the next event-loop turn) form one group.
    await Promise.all(Array.from({ length: 5 }, (_, i) => d.async(tasks.echo, { value: `again${i}` })));
    expect(statements).toEqual([1, 1, 39, 5]);
    const rows = await values(db);
    expect(rows.map((r) => r.v)).toEqual(["warm", ...handles.map((_, i) => `c${i}`), ...Array.from({ length: 5 }, (_, i) => `again${i}`)]);
    expect(handles.map((h) => h.id)).toEqual(rows.slice(1, 41).map((r) => r.id));
    expect(new Set(handles.map((h) => h.id)).size).toBe(40);
  });

  it("a row the server refuses fails only its own call; the others of its group are inserted", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await db.pool.query(`alter table ${db.q}.jobs add constraint no_poison check (captures::text not like '%poison%')`);
    await d.async(tasks.echo, { value: "warm" });
    const calls = Array.from({ length: 12 }, (_, i) => d.async(tasks.echo, { value: i === 6 ? "poison" : `ok${i}` }));
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(settled.map((_, i) => (i === 6 ? "rejected" : "fulfilled")));
    expect(String((settled[6] as PromiseRejectedResult).reason?.message)).toMatch(/no_poison/);
    const rows = await values(db);
    expect(rows.map((r) => r.v).sort()).toEqual(["warm", ...Array.from({ length: 12 }, (_, i) => `ok${i}`).filter((_, i) => i !== 6)].sort());
    const fulfilled = settled.filter((s): s is PromiseFulfilledResult<any> => s.status === "fulfilled").map((s) => s.value.id);
    expect(fulfilled.sort()).toEqual(rows.filter((r) => r.v !== "warm").map((r) => r.id).sort());
  });

  it("unique conflicts inside one group: one job per key, the others answer conflict with its id", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const existing = await d.async(tasks.echo, { value: "old" }, { unique: { period: "1h" } });
    const unique = { unique: { period: "1h" } };
    const handles = await Promise.all([
      d.async(tasks.echo, { value: "first" }),
      d.async(tasks.echo, { value: "k" }, unique),
      d.async(tasks.echo, { value: "plain" }),
      d.async(tasks.echo, { value: "k" }, unique),
      d.async(tasks.echo, { value: "old" }, unique),
      d.async(tasks.echo, { value: "k" }, unique),
    ]);
    const [, k1, plain, k2, old, k3] = handles;
    expect([k1!.conflict, k2!.conflict, k3!.conflict]).toEqual([false, true, true]);
    expect(k2!.id).toBe(k1!.id);
    expect(k3!.id).toBe(k1!.id);
    expect(old).toMatchObject({ id: existing.id, conflict: true });
    expect(plain!.conflict).toBe(false);
    const rows = await values(db);
    expect(rows.map((r) => r.v)).toEqual(["old", "first", "k", "plain"]);
  });

  it("stop() with calls in flight: every call settles, and each handle it returned is a stored job", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.async(tasks.echo, { value: "warm" });
    const calls = Array.from({ length: 300 }, (_, i) => d.async(tasks.echo, { value: `s${i}` }));
    const stopped = d.stop();
    const settled = await Promise.allSettled(calls);
    await stopped;
    await expect(d.async(tasks.echo, { value: "late" })).rejects.toBeInstanceOf(DurableStoppedError);
    // stop() waits for inserts in flight, grouped or not: none is lost or left pending.
    expect(settled.every((s) => s.status === "fulfilled")).toBe(true);
    const rows = await values(db);
    const ids = settled.map((s) => (s as PromiseFulfilledResult<any>).value.id);
    expect(rows.filter((r) => r.v !== "warm").map((r) => r.id)).toEqual(ids);
  });

  it("a process stopped by SIGTERM with calls in flight: each call a handle, each handle a stored job", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.stop();
    const child = spawn(process.execPath, [join(process.cwd(), "test/support/group-stop-child.mjs"), db.url, db.schema]);
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
    expect(signal ?? code).toBe("SIGTERM");
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(200);
    expect(lines.filter((l) => l.startsWith("error"))).toEqual([]);
    const rows = await values(db);
    expect(rows.filter((r) => r.v !== "warm").map((r) => r.id).sort()).toEqual([...lines].sort());
  });

  it("prepared insert statements keep each handle on its own row, past the executions after which Postgres may plan them generically", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    const handles = [];
    for (let round = 0; round < 8; round++) {
      handles.push(...(await d.asyncMany(Array.from({ length: 30 }, (_, i) => [tasks.echo, { value: `r${round}-${i}` }, { priority: i % 3 }] as [any, any, any]))));
      handles.push(await d.async(tasks.echo, { value: `r${round}-single` }));
    }
    const byId = new Map((await values(db)).map((r) => [r.id, r.v]));
    const expected = Array.from({ length: 8 }, (_, round) => [...Array.from({ length: 30 }, (_, i) => `r${round}-${i}`), `r${round}-single`]).flat();
    expect(handles.map((h) => byId.get(h.id))).toEqual(expected);
  });

  it("writes a refused group again call by call only when the server rolled the statement back", () => {
    expect(refusedByServer({ code: "23514" })).toBe(true);
    expect(refusedByServer({ code: "22008" })).toBe(true);
    // The connection went away: the commit's outcome is unknown, so nothing is written twice.
    expect(refusedByServer({ code: "08006" })).toBe(false);
    expect(refusedByServer({ code: "57P01" })).toBe(false);
    expect(refusedByServer(new Error("Connection terminated unexpectedly"))).toBe(false);
    expect(refusedByServer(null)).toBe(false);
  });
});
