import { createHash } from "node:crypto";
import pg from "pg";
import { inject, onTestFinished, expect } from "vitest";
import { DurableInstance } from "../../src/instance.js";
import type { StartOptions } from "../../src/config/start.js";

export const databaseUrl = (): string => inject("databaseUrl");

/** A schema name unique to the running test (hash of file and title), like pg-boss does. */
export function schemaForTest(suffix = ""): string {
  const state = expect.getState();
  const hash = createHash("sha1").update(`${state.testPath}:${state.currentTestName}:${suffix}:${process.pid}`).digest("hex").slice(0, 12);
  return `t_${hash}`;
}

/**
 * A pool for assertions, plus the test's schema. The schema is dropped when
 * the test passes and kept when it fails, so a failure can be inspected.
 */
export async function testDatabase(suffix = "") {
  const schema = schemaForTest(suffix);
  const pool = new pg.Pool({ connectionString: databaseUrl(), max: 4 });
  pool.on("error", () => undefined);
  await pool.query(`drop schema if exists "${schema}" cascade`);
  const instances: DurableInstance[] = [];
  onTestFinished(async ({ task }) => {
    await Promise.allSettled(instances.map((i) => i.stop({ grace: 0 })));
    if (task.result?.state !== "fail") await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  });
  const make = async (options: StartOptions = {}) => {
    const instance = new DurableInstance({
      database: databaseUrl(),
      schema,
      logger: quietLogger,
      handleSignals: false,
      pollInterval: 200,
      ...options,
    });
    instances.push(instance);
    await instance.start();
    return instance;
  };
  return { schema, pool, q: `"${schema}"`, url: databaseUrl(), start: make };
}

export const quietLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Resolves when predicate() holds, polling briefly; fails with `what` after the limit. */
export async function eventually<T>(what: string, predicate: () => Promise<T | undefined | false> | T | undefined | false, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Resolves on the next event of that name matching the filter. */
export function nextEvent<T>(subscribe: (listener: (payload: T) => void) => () => void, filter: (payload: T) => boolean = () => true, limitMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error("timed out waiting for an event"));
    }, limitMs);
    const off = subscribe((payload) => {
      if (!filter(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}
