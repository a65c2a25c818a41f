import { describe, expect, it } from "vitest";
import { ConfigError, InvalidOptionError } from "../../src/errors.js";
import { databaseUrl, testDatabase } from "../support/db.js";
import { pgbouncerBinary, startPgbouncer } from "../support/pgbouncer.js";
import { freePort } from "../support/ports.js";
import * as tasks from "../support/tasks.mjs";

// listenDatabase / DURABLE_LISTEN_URL: checked like DATABASE_URL, a refused
// connection named as this setting, and a pooler there never trusted for LISTEN.

function recordingLogger() {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  return { lines, logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } };
}

describe("the LISTEN connection setting", () => {
  it("refuses a value that is not a PostgreSQL URL, naming where it came from", async () => {
    const db = await testDatabase();
    const previous = process.env.DURABLE_LISTEN_URL;
    process.env.DURABLE_LISTEN_URL = "garbage";
    try {
      await expect(db.start({ run: false })).rejects.toThrow(InvalidOptionError);
      await expect(db.start({ run: false })).rejects.toThrow(/`DURABLE_LISTEN_URL`: is not a PostgreSQL connection URL/);
    } finally {
      if (previous === undefined) delete process.env.DURABLE_LISTEN_URL;
      else process.env.DURABLE_LISTEN_URL = previous;
    }
    await expect(db.start({ run: false, listenDatabase: "postgres://u:hunter2@[bad" })).rejects.toThrow(/`listenDatabase`: cannot be parsed as a URL/);
  });

  it("wraps a refused connection in an error naming the setting, without the password", async () => {
    const db = await testDatabase();
    const port = await freePort();
    const error = await db.start({ run: false, listenDatabase: `postgres://u:hunter2@127.0.0.1:${port}/x` }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/cannot connect to the LISTEN database postgres:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/x \(listenDatabase\): .*ECONNREFUSED.*Check listenDatabase/);
    expect(error.message).not.toContain("hunter2");
  });

  it.skipIf(pgbouncerBinary() === null)("ignores a listen URL that goes through a pooler, with a warning, and says the node polls", async () => {
    const bouncer = await startPgbouncer(databaseUrl(), { poolSize: 2 });
    try {
      const db = await testDatabase();
      const { lines, logger } = recordingLogger();
      const d = await db.start({ database: bouncer.url, listenDatabase: bouncer.url, logger });
      expect(lines.find((l) => l.level === "warn")?.message).toMatch(/listenDatabase \(.*\) goes through a transaction pooler, where LISTEN receives no notifications; ignoring it/);
      expect(lines.find((l) => l.message.includes("no named prepared statements"))?.message).toMatch(/listenDatabase is a pooler too: polling every 200ms alone/);
      const job = await d.async(tasks.add, { a: 1, b: 2 });
      expect(await d.await(job, { timeout: "20s" })).toBe(3);
      await d.stop({ grace: 0 });
    } finally {
      await bouncer.stop();
    }
  });
});
