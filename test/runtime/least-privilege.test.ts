import { randomBytes } from "node:crypto";
import { describe, expect, it, onTestFinished } from "vitest";
import { migrate, latestVersion } from "../../src/db/index.js";
import { DurableInstance } from "../../src/instance.js";
import { MigrationPermissionError, SchemaBehindError } from "../../src/errors.js";
import { quietLogger, testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";

// A deployment that runs workers under a role without CREATE (only DML on
// durable's tables) and migrates in its deploy step with another role.

type Db = Awaited<ReturnType<typeof testDatabase>>;

/** A login role with DML on the schema's tables only; its URL, dropped when the test ends. */
async function restrictedRole(db: Db): Promise<string> {
  const role = `durable_app_${randomBytes(5).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  await db.pool.query(`create role ${role} login password '${password}' nocreatedb nocreaterole`);
  await db.pool.query(`revoke create on database ${(await db.pool.query("select current_database() as d")).rows[0].d} from ${role}`);
  onTestFinished(async () => {
    await db.pool.query(`drop owned by ${role}`).catch(() => undefined);
    await db.pool.query(`drop role if exists ${role}`).catch(() => undefined);
  });
  const url = new URL(db.url);
  url.username = role;
  url.password = password;
  return url.toString();
}

async function grantDml(db: Db, role: string): Promise<void> {
  await db.pool.query(`grant usage on schema ${db.q} to ${role}`);
  await db.pool.query(`grant select, insert, update, delete on all tables in schema ${db.q} to ${role}`);
  await db.pool.query(`grant usage, select, update on all sequences in schema ${db.q} to ${role}`);
}

const roleOf = (url: string) => new URL(url).username;

describe("least privilege", () => {
  it("a role without CREATE starts against a current schema, runs jobs, and never attempts DDL", async () => {
    const db = await testDatabase();
    await migrate(db.pool, db.schema);
    const url = await restrictedRole(db);
    await grantDml(db, roleOf(url));
    const d = new DurableInstance({ database: url, schema: db.schema, logger: quietLogger, handleSignals: false, pollInterval: 200 });
    onTestFinished(() => d.stop({ grace: 0 }));
    await d.start();
    const job = await d.async(tasks.echo, { value: "least privilege" });
    expect(await d.await(job, { timeout: "10s" })).toBe("least privilege");
    expect(await d.jobs.count({ state: "completed" })).toBe(1);
    await d.queues.pause("ad_hoc_worker", { for: "1m" });
  });

  it("names `migrate: false` and `durable migrate` when the schema needs DDL this role may not run", async () => {
    const db = await testDatabase();
    const url = await restrictedRole(db);
    const fresh = new DurableInstance({ database: url, schema: db.schema, logger: quietLogger, handleSignals: false, run: false });
    const error = await fresh.start().catch((e) => e);
    expect(error).toBeInstanceOf(MigrationPermissionError);
    expect(error.code).toBe("DURABLE_MIGRATION_DENIED");
    expect(error.message).toMatch(new RegExp(`Schema "${db.schema}" needs migration`));
    expect(error.message).toMatch(/`durable migrate --schema t_\w+`.*`migrate: false`/);

    // The same role, told not to migrate, against a schema that is behind.
    await migrate(db.pool, db.schema);
    await grantDml(db, roleOf(url));
    await db.pool.query(`delete from ${db.q}.migrations where version = $1`, [latestVersion()]);
    const behind = new DurableInstance({ database: url, schema: db.schema, logger: quietLogger, handleSignals: false, run: false, migrate: false });
    const stale = await behind.start().catch((e) => e);
    expect(stale).toBeInstanceOf(SchemaBehindError);
    expect(stale.message).toMatch(/started with `migrate: false`\. Run `durable migrate --schema/);
  });

  it("with `migrate: false`, a current schema starts without touching the migrations lock", async () => {
    const db = await testDatabase();
    await migrate(db.pool, db.schema);
    const url = await restrictedRole(db);
    await grantDml(db, roleOf(url));
    // Hold the migration lock: a starter that took it would wait here.
    const holder = await db.pool.connect();
    onTestFinished(() => holder.release());
    await holder.query("begin");
    await holder.query("select pg_advisory_xact_lock(hashtextextended($1, 0))", [`durable-async:migrate:${db.schema}`]);
    for (const migrateOption of [false, true]) {
      const d = new DurableInstance({ database: url, schema: db.schema, logger: quietLogger, handleSignals: false, run: false, migrate: migrateOption });
      await d.start();
      await d.stop();
    }
    await holder.query("rollback");
  });
});
