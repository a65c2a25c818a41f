import pg from "pg";
import { describe, expect, it, onTestFinished } from "vitest";
import { withClient, withTransaction } from "../../src/db/tx.js";
import { databaseUrl, eventually, testDatabase } from "../support/db.js";
import { startWorkerProcess } from "../support/processes.js";
import { SilentProxy } from "../faults/proxy.js";
import * as tasks from "../support/tasks.mjs";

// A connection that drops while its client is checked out of the pool (a
// server restart, pg_terminate_backend, a failover). The pool listens for
// errors only on idle clients, and pg emits the drop as an 'error' event on
// the client even when the query it was running fails with it: without a
// listener of ours that event is an uncaught exception, and the node's
// process dies (the fault suite's restart scenario lost workers that way).
// Two kinds of drop: pg_terminate_backend sends a FATAL first (a transaction's
// rollback keeps the client checked out until the close); a crash or a reset
// closes with nothing sent (the proxy's cut), so even a single statement
// learns of it only at the close.

function ownPool() {
  const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
  pool.on("error", () => undefined);
  onTestFinished(() => pool.end());
  return pool;
}

async function terminate(admin: pg.Pool, pid: number): Promise<void> {
  const { rows } = await admin.query("select pg_terminate_backend($1) as ok", [pid]);
  expect(rows[0].ok).toBe(true);
}

/** Once the server has let the backend go (its socket is closed by then). */
const backendGone = (admin: pg.Pool, pid: number) =>
  eventually("the backend to exit", async () => (await admin.query("select 1 from pg_stat_activity where pid = $1", [pid])).rowCount === 0);

describe("a pooled client whose connection drops while it is checked out", () => {
  it("between two statements of a transaction: the transaction fails, the process and the pool go on", async () => {
    const pool = ownPool();
    const admin = ownPool();
    const outcome = withTransaction(pool, async (client) => {
      const { rows } = await client.query("select pg_backend_pid() as pid");
      await terminate(admin, rows[0].pid);
      await backendGone(admin, rows[0].pid);
      return client.query("select 1");
    });
    await expect(outcome).rejects.toThrow(/terminat|not queryable/i);
    // The broken client was discarded, not handed out again.
    expect((await pool.query("select 2 as n")).rows[0].n).toBe(2);
  });

  it("while a statement runs: the statement fails, the process and the pool go on", async () => {
    const pool = ownPool();
    const admin = ownPool();
    const outcome = withClient(pool, async (client) => {
      const { rows } = await client.query("select pg_backend_pid() as pid");
      // Ended by the termination below, long before it would end by itself.
      const running = client.query("select pg_sleep(600)");
      // It fails on purpose below, possibly before it is returned: handled from the start, so the
      // rejection is never "unhandled" for a moment (the returned promise still rejects).
      running.catch(() => undefined);
      await eventually("the statement to run", async () => (await admin.query("select 1 from pg_stat_activity where pid = $1 and query like 'select pg_sleep%'", [rows[0].pid])).rowCount === 1);
      await terminate(admin, rows[0].pid);
      return running;
    });
    await expect(outcome).rejects.toThrow(/terminat/i);
    expect((await pool.query("select 3 as n")).rows[0].n).toBe(3);
  });

  it("a worker node whose maintenance transaction loses its connection keeps running jobs", async () => {
    const db = await testDatabase();
    const client = await db.start({ run: false });
    // leaseTtl 1 s: heartbeat every 250 ms, the check for unrunnable jobs (a transaction) every 1.25 s.
    const worker = await startWorkerProcess(db.schema, { leaseTtlMs: 1_000 });
    const locker = await db.pool.connect();
    onTestFinished(() => locker.release(true));
    // Hold the check's transaction in its statement, so its connection is checked out when it drops.
    await locker.query(`begin; lock table ${db.q}.jobs_active in access exclusive mode`);
    const blocked = await eventually("the node's check to wait for the lock", async () => {
      const { rows } = await db.pool.query(
        `select pid from pg_stat_activity where wait_event_type = 'Lock' and ltrim(query, E' \\n') like 'with recursive k as%' and query like '%' || $1 || '%'`,
        [db.q],
      );
      return rows[0]?.pid as number | undefined;
    });
    await terminate(db.pool, blocked);
    await locker.query("commit");
    const handle = await client.async(tasks.echo, { value: "after the drop" });
    const exited = worker.exited.then((code) => {
      throw new Error(`the worker process exited (code ${code}) after its connection dropped`);
    });
    await expect(Promise.race([client.await(handle, { timeout: "60s" }), exited])).resolves.toBe("after the drop");
  });

  it("a process whose await reads on a connection that closes without a word gets the error and keeps running", async () => {
    const db = await testDatabase();
    const api = await db.start({ run: false });
    const handle = await api.async(tasks.echo, { value: "never run: no worker" });
    // A close with no FATAL message first (a server crash, a reset): pg fails the statement only through the 'error' event.
    const target = new URL(db.url);
    const proxy = new SilentProxy({ host: target.hostname, port: Number(target.port) });
    await proxy.start();
    onTestFinished(() => proxy.stop());
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const caller = await startWorkerProcess(db.schema, { mode: "client", databaseUrl: viaProxy.href });
    const locker = await db.pool.connect();
    onTestFinished(() => locker.release(true));
    // Hold the await's read (a hot statement, on a checked-out client for its plan bookkeeping) in its statement.
    await locker.query(`begin; lock table ${db.q}.jobs_active in access exclusive mode`);
    // Rejects if the process exits instead of answering.
    const answer = caller.message<{ error?: string }>((m) => "result" in m || "error" in m);
    caller.child.send({ await: handle.id });
    await eventually("the await's read to wait for the lock", async () => {
      const { rowCount } = await db.pool.query(
        `select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like 'select id::text, state, result%' and query like '%' || $1 || '%'`,
        [db.q],
      );
      return rowCount === 1;
    });
    proxy.cut();
    await locker.query("commit");
    expect((await answer).error).toMatch(/terminated unexpectedly/i);
  });
});
