import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { migrate, latestVersion, schemaVersion } from "../../src/db/index.js";
import { loadMigrations } from "../../src/db/migrate.js";
import { SchemaNewerError } from "../../src/errors.js";
import { testDatabase } from "../support/db.js";
import { resolveDatabase } from "../../src/db/index.js";

describe("migrations", () => {
  it("apply once, concurrently, under an advisory lock, and are recorded", async () => {
    const db = await testDatabase();
    const results = await Promise.all([migrate(db.pool, db.schema), migrate(db.pool, db.schema), migrate(db.pool, db.schema)]);
    // Every shipped migration, once (numbers may have gaps: each version is reserved by the change that needs it).
    expect(results.flat().sort((a, b) => a - b)).toEqual(loadMigrations().map((m) => m.version));
    expect(await schemaVersion(db.pool, db.schema)).toBe(latestVersion());
    const { rows } = await db.pool.query(`select version, name from ${db.q}.migrations order by version`);
    expect(rows[0]).toEqual({ version: 1, name: "init" });
  });

  it("refuse to run against a schema newer than the code", async () => {
    const db = await testDatabase();
    await migrate(db.pool, db.schema);
    await db.pool.query(`insert into ${db.q}.migrations (version, name) values (9999, 'from_the_future')`);
    const error = await migrate(db.pool, db.schema).catch((e) => e);
    expect(error).toBeInstanceOf(SchemaNewerError);
    expect(error.message).toMatch(/migration 9999 .* Upgrade durable-async/);
  });
});

describe("database resolution", () => {
  it("refuses to fall back to the embedded server in production", async () => {
    const saved = { url: process.env.DATABASE_URL, env: process.env.NODE_ENV };
    delete process.env.DATABASE_URL;
    process.env.NODE_ENV = "production";
    try {
      await expect(resolveDatabase(undefined, 1)).rejects.toThrow(/NODE_ENV=production: set DATABASE_URL/);
    } finally {
      process.env.NODE_ENV = saved.env;
      if (saved.url !== undefined) process.env.DATABASE_URL = saved.url;
    }
  });

  it("rejects a database option of the wrong type", async () => {
    await expect(resolveDatabase(42 as any, 1)).rejects.toThrow(/Invalid option `database`/);
  });
});

describe("embedded server", () => {
  it("is shared: a second process finds the running server instead of starting another", async () => {
    const dir = `/tmp/durable-embedded-test-${process.pid}`;
    const script = `
      import { ensureEmbeddedPostgres } from "${process.cwd()}/dist/src/db/embedded.js";
      const s = await ensureEmbeddedPostgres({ dataDir: "${dir}/pg" });
      console.log(JSON.stringify({ started: s.started, port: s.port }));
      if (process.argv[2] === "stop") await s.stop();`;
    const run = (arg: string) => {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, "--", arg], { encoding: "utf8", timeout: 90_000, env: { ...process.env, DATABASE_URL: "" } });
      if (r.status !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout.trim().split("\n").pop()!);
    };
    try {
      const first = run("keep");
      const second = run("stop");
      expect(first.started).toBe(true);
      expect(second).toEqual({ started: false, port: first.port });
    } finally {
      spawnSync("rm", ["-rf", dir]);
    }
  });
});
