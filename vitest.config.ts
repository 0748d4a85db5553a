import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";
import { MODEL_CHECK_TEST, modelCheckSkipReason } from "./test/model/model-tools.mjs";
import LongFirstSequencer from "./test/support/long-first-sequencer";

const dist = (file: string) => fileURLToPath(new URL(`./dist/${file}`, import.meta.url));

/** The 90-second chaos run: it takes the whole machine, so it runs alone, after everything else. */
const CHAOS_RUN = "test/chaos/chaos-run.test.ts";
/** Left out when spin or gcc is missing (and not required); the count reporter says so under the final count. */
const notRunnable = modelCheckSkipReason() ? [MODEL_CHECK_TEST] : [];
/** The example apps under the real tools: `npm run test:frameworks` (vitest.frameworks.config.ts). */
const FRAMEWORKS = "test/frameworks/**";

export default defineConfig({
  resolve: {
    // Tests use the built package as users do (npm test builds first), so the
    // liveness thread and child processes run exactly the shipped files.
    alias: [
      { find: /^pulselock$/, replacement: dist("node.js") },
      { find: /^pulselock\/(node|ioredis|upstash|internal)$/, replacement: dist("$1.js") },
      { find: /^pulselock\/core$/, replacement: dist("index.js") },
    ],
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default (one fewer than the cores) runs the files one by one on 2 cores, which took the suite to
    // 9 min there; the tests wait for conditions rather than time, so two files at once are safe (5.7 min).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The files that take minutes start first (test/support/long-first-sequencer.ts).
    sequence: { sequencer: LongFirstSequencer },
    // Reporters belong to the root: one final "N passed, N failed" line covers both projects.
    reporters: ["default", "./test/support/count-reporter.ts"],
    server: { deps: { external: [/\/dist\//] } },
    projects: [
      {
        extends: true,
        test: {
          name: "main",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, CHAOS_RUN, FRAMEWORKS, ...notRunnable],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "chaos",
          include: [CHAOS_RUN],
          testTimeout: 6 * 60_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
