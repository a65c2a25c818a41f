import { defineConfig } from "vitest/config";

// `npm run test:faults`: the fault suite and the soak. Files run one at a
// time (each spawns three workers and its own PostgreSQL); every scenario
// bounds its own run time and stops its processes by itself.
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    globalSetup: ["test/faults/global-setup.ts"],
    testTimeout: 15 * 60_000,
    hookTimeout: 5 * 60_000,
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
  },
});
