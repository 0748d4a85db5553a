import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const dist = (file: string) => fileURLToPath(new URL(`./dist/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests use the built package as users do (npm test builds first), so the
    // liveness thread and child processes run exactly the shipped files.
    alias: [
      { find: /^pulselock$/, replacement: dist("node.js") },
      { find: /^pulselock\/(node|ioredis|upstash)$/, replacement: dist("$1.js") },
      { find: /^pulselock\/core$/, replacement: dist("index.js") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default", "./test/support/count-reporter.ts"],
    server: { deps: { external: [/\/dist\//] } },
  },
});
