import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default is one worker less than the cores: on CI's 2 cores, a single worker.
    maxWorkers: 2,
    setupFiles: ["test/setup.ts"],
  },
});
