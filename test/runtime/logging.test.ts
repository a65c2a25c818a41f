import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { adaptLogger, defaultLogger, logLevelFromEnv, redactUrl } from "../../src/logger.js";
import { normalizeStartOptions } from "../../src/config/start.js";
import { repoRoot } from "../support/examples.js";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";

function captureStderr() {
  const lines: any[] = [];
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: any) => {
    for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
    return true;
  });
  return { lines, restore: () => spy.mockRestore() };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("the default logger", () => {
  it("writes JSON lines on stderr at or above its level", () => {
    const out = captureStderr();
    const log = defaultLogger("warn");
    log.debug("d");
    log.info("i");
    log.warn("w", { jobId: "1" });
    log.error("e");
    out.restore();
    expect(out.lines.map((l) => [l.level, l.msg])).toEqual([["warn", "w"], ["error", "e"]]);
    expect(out.lines[0]).toMatchObject({ jobId: "1", time: expect.any(String) });
  });

  it("takes its level from DURABLE_LOG_LEVEL and refuses a level that does not exist", () => {
    expect(logLevelFromEnv(undefined)).toBe("info");
    expect(logLevelFromEnv("DEBUG")).toBe("debug");
    expect(logLevelFromEnv("silent")).toBe("silent");
    expect(() => logLevelFromEnv("verbose")).toThrow(/DURABLE_LOG_LEVEL="verbose" is not a log level: use one of debug, info, warn, error, silent/);
    vi.stubEnv("DURABLE_LOG_LEVEL", "warning");
    expect(() => normalizeStartOptions({})).toThrow(/DURABLE_LOG_LEVEL/);
    vi.stubEnv("DURABLE_LOG_LEVEL", "error");
    const out = captureStderr();
    const { logger } = normalizeStartOptions({});
    logger.warn("hidden");
    logger.error("shown");
    out.restore();
    expect(out.lines.map((l) => l.msg)).toEqual(["shown"]);
  });

  it("never prints a password", () => {
    expect(redactUrl("postgres://app:s3cret@db.internal:5432/app?sslmode=require")).toBe("postgres://app:***@db.internal:5432/app?sslmode=require");
    expect(redactUrl("host=db user=app password=s3cret dbname=app")).toBe("host=db user=app password=*** dbname=app");
    expect(redactUrl("postgres://db/app?password=s3cret")).not.toContain("s3cret");
  });
});

describe("the logger option", () => {
  it("takes console's shape: message first, then the fields", () => {
    const calls: unknown[][] = [];
    const consoleLike = { debug: (...a: unknown[]) => calls.push(["debug", ...a]), info: (...a: unknown[]) => calls.push(["info", ...a]), warn: (...a: unknown[]) => calls.push(["warn", ...a]), error: (...a: unknown[]) => calls.push(["error", ...a]) };
    const log = adaptLogger(consoleLike);
    log.warn("durable: attempt failed", { jobId: "7" });
    log.info("plain");
    expect(calls).toEqual([["warn", "durable: attempt failed", { jobId: "7" }], ["info", "plain"]]);
    expect(() => adaptLogger(console)).not.toThrow();
  });

  it("takes pino's shape: the fields land in the JSON line", () => {
    const lines: any[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
    const log = adaptLogger(pino({ level: "debug" }, sink));
    log.warn("durable: attempt failed", { jobId: "7", task: "src/a.ts#f#0" });
    log.debug("durable: detail");
    expect(lines[0]).toMatchObject({ level: 40, msg: "durable: attempt failed", jobId: "7", task: "src/a.ts#f#0" });
    expect(lines[1]).toMatchObject({ level: 20, msg: "durable: detail" });
  });

  it("rejects an object without the four methods, and survives a logger that throws", () => {
    expect(() => normalizeStartOptions({ logger: { info() {} } as any })).toThrow(/Invalid option `logger`: expected an object with debug, info, warn and error/);
    const log = adaptLogger({ debug() {}, info() {}, warn() { throw new Error("disk full"); }, error() {} });
    expect(() => log.warn("x", { a: 1 })).not.toThrow();
  });
});

describe("start-up lines", () => {
  it("say at info which database is used, without the password", async () => {
    const db = await testDatabase();
    const lines: Array<[string, string, any]> = [];
    const at = (level: string) => (msg: string, fields?: any) => void lines.push([level, msg, fields]);
    const url = new URL(db.url);
    // The embedded server has a generated password (keep it); with trust auth any password passes.
    url.password ||= "not-needed-but-secret";
    const secret = decodeURIComponent(url.password);
    const d = await db.start({ database: url.toString(), logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } });
    expect(await d.run(tasks.add, { a: 1, b: 1 }, { timeout: "20s" })).toBe(2);
    const line = lines.find(([, msg]) => msg.startsWith("durable: database "));
    expect(line?.[0]).toBe("info");
    expect(line?.[1]).toContain(`(from durable.start({ database })), schema "${db.schema}"`);
    expect(JSON.stringify(lines)).not.toContain(secret);
    expect(lines.some(([level, msg]) => level === "info" && /direct connection, named prepared statements; LISTEN on the database/.test(msg))).toBe(true);
  });

  it("say at info when no database was given and the embedded server is used, naming a look-alike variable", () => {
    const dir = `/tmp/durable-fallback-test-${process.pid}`;
    const script = `
      import { DurableInstance } from "${repoRoot}/dist/src/index.js";
      import { ensureEmbeddedPostgres } from "${repoRoot}/dist/src/db/embedded.js";
      const d = new DurableInstance({ run: false, handleSignals: false });
      await d.start();
      await d.stop();
      await (await ensureEmbeddedPostgres()).stop();`;
    try {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, DATABASE_URL: "", DATABSE_URL: "postgres://typo@db/app", DURABLE_DATA_DIR: `${dir}/pg`, DURABLE_LOG_LEVEL: "info" },
      });
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      const fallback = lines.find((l) => l.msg.includes("no database given"));
      expect(fallback).toMatchObject({ level: "info", source: "embedded", dataDir: `${dir}/pg` });
      expect(fallback.msg).toContain("DATABSE_URL is set: did you mean DATABASE_URL?");
    } finally {
      spawnSync("rm", ["-rf", dir]);
    }
  });
});
