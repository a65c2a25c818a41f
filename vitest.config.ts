import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/faults/**", "**/node_modules/**", "**/fixtures/**"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 180_000, // a ceiling for hangs; several tests spawn TypeScript processes through the hook
    hookTimeout: 120_000,
    pool: "forks",
    // Crash and multi-process tests spawn workers of their own; two files at a time fits 2 cores.
    maxWorkers: 2,
  },
});
