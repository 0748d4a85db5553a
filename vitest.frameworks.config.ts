import { defineConfig } from "vitest/config";

/**
 * `npm run test:frameworks`: the example apps under the real tools (next build/start/dev with Turbopack and
 * webpack, wrangler dev). Slow (installs and builds), so apart from `npm test`; .ci/run runs both.
 */
export default defineConfig({
  test: {
    include: ["test/frameworks/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: "forks",
    // One app at a time: each build takes both cores, and the lock rounds are timing-sensitive.
    fileParallelism: false,
    reporters: ["default", "./test/support/count-reporter.ts"],
  },
});
