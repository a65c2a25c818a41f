import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../support/examples.js";

// The documented way for users: their own Vitest with the durable-async/vite
// plugin, testing code that calls durable.async with durable-async/testing.
describe("durable-async/testing in a user's Vitest with durable-async/vite", () => {
  it("transforms the code under test and the helpers see its jobs", () => {
    const dir = join(repoRoot, "test/testing/fixtures/vitest-user");
    const result = spawnSync(join(repoRoot, "node_modules/.bin/vitest"), ["run", "--config", join(dir, "vitest.config.mjs")], {
      cwd: dir, encoding: "utf8", timeout: 120_000, env: { ...process.env, CI: "1" },
    });
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/1 passed/);
  }, 130_000);
});
