import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../src/errors.js";
import { DurableInstance } from "../../src/instance.js";
import { eventually, quietLogger, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";

// What `database` accepts, as apps pass it: a pool of the app's own pg (which
// need not be our copy), settings, a string. Anything else is refused by
// name before a connection is made to somewhere else.

/** Where Node would find package `name` from `from` (its package.json, which some exports maps hide). */
function packageDir(name: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) throw new Error(`package ${name} not found from ${from}`);
  }
}

/** A second, separate copy of pg (as when an app pins another version and npm nests ours). */
function pgCopy(): { pg: typeof pg; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "durable-pg-copy-"));
  const seen = new Set<string>();
  const copy = (name: string, from: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const root = packageDir(name, from);
    const manifest = join(root, "package.json");
    cpSync(root, join(dir, "node_modules", name), { recursive: true, dereference: true });
    const deps = JSON.parse(readFileSync(manifest, "utf8")).dependencies ?? {};
    for (const dep of Object.keys(deps)) copy(dep, root);
  };
  copy("pg", process.cwd());
  const entry = join(dir, "node_modules", "pg", "lib", "index.js");
  expect(existsSync(entry)).toBe(true);
  const other = createRequire(pathToFileURL(join(dir, "index.js")).href)("pg") as typeof pg;
  return { pg: other, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("the database option", () => {
  it("takes a pool of another copy of pg as a pool: the right database, jobs run", async () => {
    const db = await testDatabase();
    const copy = pgCopy();
    try {
      expect(copy.pg.Pool).not.toBe(pg.Pool);
      const pool = new copy.pg.Pool({ connectionString: db.url, max: 4 });
      pool.on("error", () => undefined);
      const lines: string[] = [];
      const logger = { ...quietLogger, info: (message: string) => void lines.push(message) };
      const d = await db.start({ database: pool as unknown as pg.Pool, logger, queues: { ad_hoc_worker: 2 } });
      expect(lines.find((l) => l.startsWith("durable: database"))).toContain("from the pg.Pool passed in");
      const job = await d.async(tasks.echo, { value: "copied" });
      expect(await d.await(job, { timeout: "20s" })).toBe("copied");
      const { rows } = await db.pool.query(`select state from ${db.q}.jobs where id = $1`, [job.id]);
      expect(rows).toEqual([{ state: "completed" }]);
      await d.stop();
      await pool.end();
    } finally {
      copy.dispose();
    }
  });

  it("refuses a single pg.Client and a connection string under a key pg does not read, before connecting", async () => {
    const db = await testDatabase();
    const client = new pg.Client({ connectionString: db.url });
    const cases: [unknown, string][] = [
      [client, "database"],
      [{ url: db.url }, "database.url"],
      [{ databaseUrl: db.url, max: 3 }, "database.databaseUrl"],
      [{ connectionString: "mysql://nope" }, "database.connectionString"],
    ];
    for (const [database, option] of cases) {
      const d = new DurableInstance({ database: database as pg.Pool, schema: db.schema, logger: quietLogger, handleSignals: false });
      const error = await d.start().then(() => null, (e: unknown) => e);
      expect(error, option).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
      expect((error as Error).message).toMatch(/pg\.Pool|connectionString|connection URL/);
      await d.stop();
    }
    // Nothing was created: the refusal came before any connection.
    const { rows } = await db.pool.query("select count(*)::int as n from information_schema.schemata where schema_name = $1", [db.schema]);
    expect(rows[0].n).toBe(0);
  });

  it("a pool passed in without an 'error' listener survives its idle connections dying, and gets its listeners back on stop", async () => {
    const db = await testDatabase();
    const name = `durable-idle-${process.pid}-${Date.now()}`;
    const pool = new pg.Pool({ connectionString: db.url, max: 3, application_name: name });
    const warnings: string[] = [];
    const logger = { ...quietLogger, warn: (message: string) => void warnings.push(message) };
    const d = await db.start({ database: pool, logger, run: false, notifications: false });
    expect(pool.listenerCount("error")).toBe(1);
    // Two idle connections in the pool, then killed by the server (what a restart does).
    await Promise.all([pool.query("select pg_sleep(0.05)"), pool.query("select pg_sleep(0.05)")]);
    expect(pool.idleCount).toBeGreaterThan(0);
    const idle = pool.idleCount;
    await db.pool.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1", [name]);
    // Each dead idle client errors on its own socket event; wait for all, so the next query gets a live one.
    await eventually("the pool reported every dead idle connection", () => pool.idleCount === 0 && warnings.filter((w) => w.includes("idle connection of the pg.Pool")).length >= idle);
    // The process is still here and the pool still works.
    const job = await d.async(tasks.echo, { value: 1 });
    expect(job.id).toMatch(/^\d+$/);
    await d.stop();
    expect(pool.listenerCount("error")).toBe(0);
    await pool.end();
  });

  it("leaves a pool's own 'error' listener alone", async () => {
    const db = await testDatabase();
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const own = () => undefined;
    pool.on("error", own);
    const d = await db.start({ database: pool, run: false, notifications: false });
    expect(pool.listeners("error")).toEqual([own]);
    await d.stop();
    await pool.end();
  });
});
