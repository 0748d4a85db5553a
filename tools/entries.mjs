// The files the package is built from (tsup.config.ts), one per dist file: each composes the core with the adapters
// of its runtime, so they alone may import several adapter folders (eslint.config.js and
// test/build/dependency-direction.test.ts read this list rather than parse the build config).
export const ENTRIES = {
  index: "src/index.ts",
  internal: "src/internal.ts",
  node: "adapters/node/index.ts",
  ioredis: "adapters/ioredis/index.ts",
  upstash: "adapters/upstash/index.ts",
  opentelemetry: "adapters/opentelemetry/index.ts",
  "liveness-worker": "adapters/node/liveness-worker.ts",
  deno: "adapters/deno/index.ts",
  // Spawned by URL next to the Deno entry, so it must be a file of its own.
  "deno-liveness-worker": "adapters/deno/deno-liveness-worker.ts",
  cli: "cli/main.ts",
};
