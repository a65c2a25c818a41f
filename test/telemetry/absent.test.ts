import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";

describe("without @opentelemetry/api installed", () => {
  it("runs jobs normally, stores no trace and loads nothing", async () => {
    const db = await testDatabase();
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "./test/support/hide-otel.mjs", "test/support/otel-absent-child.mjs"], {
      env: { ...process.env, DURABLE_TEST_DATABASE_URL: db.url, TEST_SCHEMA: db.schema },
    });
    expect(JSON.parse(stdout)).toEqual({ loaded: false, capture: null, result: 42, trace: null });
  });
});
