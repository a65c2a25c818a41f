import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { ensureEmbeddedPostgres, type EmbeddedServer } from "../../src/db/embedded.js";

// With DATABASE_URL set, tests use that server. Without it they start a
// throwaway embedded PostgreSQL (fsync off: test data is disposable) and stop
// it afterwards. Every test then works in a schema of its own.
let server: EmbeddedServer | undefined;
let dir: string | undefined;

export async function setup(project: TestProject) {
  let url = process.env.DATABASE_URL;
  if (!url) {
    dir = mkdtempSync(join(tmpdir(), "durable-test-"));
    server = await ensureEmbeddedPostgres({ dataDir: join(dir, "pg"), settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } });
    url = server.url;
  }
  process.env.DURABLE_TEST_DATABASE_URL = url;
  project.provide("databaseUrl", url);
}

export async function teardown() {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}
