import { describe, expect, it } from "vitest";
import { __durableTask } from "../../src/index.js";
import { testDatabase } from "../support/db.js";

// Task ids of call sites in one function carry their ordinal, so a deploy
// that reorders, adds or removes call sites gives an id another body. A job
// recorded by the earlier build must run the body that recorded it, never
// the one that now holds its id. Stubs as the new build's transformer would
// emit them; the earlier build's versions are recorded rows and queued jobs.

const file = "src/routes.ts";
const stub = (ordinal: number, hash: string, text: string) =>
  __durableTask({
    id: `${file}#<module>#${ordinal}`,
    hash,
    caller: { file, fn: "<module>", line: 10 + ordinal, column: 3 },
    source: `() => \`${text} \${userId}\``,
    captures: ["userId"],
    kind: "async",
    run: ({ userId }: Record<string, unknown>) => `${text} ${String(userId)}`,
  });

// The new build: #0 welcomes, #1 deletes. In the earlier one, #0 deleted and #1 welcomed (swapped lines).
const welcome = stub(0, "h-moved-welcome", "welcome");
const wipe = stub(1, "h-moved-wipe", "DELETE ACCOUNT");

async function recordedBy(db: Awaited<ReturnType<typeof testDatabase>>, id: string, taskId: string, hash: string) {
  await db.pool.query(`update ${db.q}.jobs set task_id = $2, body_hash = $3 where id = $1`, [id, taskId, hash]);
  await db.pool.query(
    `insert into ${db.q}.tasks (task_id, body_hash, file, line, col, source, capture_names) values ($1, $2, $3, 1, 1, 'earlier build', '{userId}') on conflict do nothing`,
    [taskId, hash, file],
  );
}

describe("call sites that moved between builds", () => {
  it("swapped lines: each queued job runs the body that recorded it, under its new id", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const a = await api.async(welcome, { userId: "u1" });
    const b = await api.async(wipe, { userId: "u2" });
    // Recorded by the earlier build: the welcome body was #1 then, the delete body #0.
    await recordedBy(db, a.id, welcome.id.replace("#0", "#1"), welcome.hash);
    await recordedBy(db, b.id, wipe.id.replace("#1", "#0"), wipe.hash);
    const worker = await db.start({ queues: { ad_hoc_worker: 2 } });
    expect(await worker.await(a, { timeout: "20s" })).toBe("welcome u1");
    expect(await worker.await(b, { timeout: "20s" })).toBe("DELETE ACCOUNT u2");
  });

  it("a call added above: the ordinal shifted, the job still runs its own body", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const job = await api.async(wipe, { userId: "u3" });
    // The earlier build had no welcome call: the delete body was #0.
    await recordedBy(db, job.id, wipe.id.replace("#1", "#0"), wipe.hash);
    const worker = await db.start({ queues: { ad_hoc_worker: 2 } });
    expect(await worker.await(job, { timeout: "20s" })).toBe("DELETE ACCOUNT u3");
  });

  it("swapped and edited: a job whose id now names another call site is held, not run by it; a plain edit still runs", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const held = await api.async(welcome, { userId: "u4" });
    const edited = await api.async(welcome, { userId: "u5" });
    // Earlier build: #0 was the delete body (now #1), and #1 an older welcome body (edited since, and now #0).
    await db.pool.query(
      `insert into ${db.q}.tasks (task_id, body_hash, file, line, col, source, capture_names) values ($1, $2, $3, 1, 1, 'earlier build', '{userId}')`,
      [welcome.id, wipe.hash, file],
    );
    await recordedBy(db, held.id, wipe.id, "h-moved-welcome-older");
    // #0's current body was never recorded under another id: an edit of the same site, run on the new body.
    await recordedBy(db, edited.id, welcome.id, "h-moved-welcome-older0");
    const worker = await db.start({ queues: { ad_hoc_worker: 2 } });
    expect(await worker.await(edited, { timeout: "20s" })).toBe("welcome u5");
    const { rows } = await db.pool.query(`select task_keys from ${db.q}.nodes`);
    const keys = rows.flatMap((r) => r.task_keys ?? []);
    expect(keys).toContain(`${welcome.id}:h-moved-welcome-older0`);
    expect(keys).not.toContain(`${wipe.id}:h-moved-welcome-older`);
    const state = (await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [held.id])).rows[0]?.state;
    expect(state).toBe("available");
  });
});
