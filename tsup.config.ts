import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    node: "adapters/node/index.ts",
    ioredis: "adapters/ioredis/index.ts",
    upstash: "adapters/upstash/index.ts",
    "reporter-worker": "adapters/node/reporter-worker.ts",
    deno: "adapters/deno/index.ts",
    // Spawned by URL next to the Deno entry, so it must be a file of its own.
    "deno-reporter-worker": "adapters/deno/deno-reporter-worker.ts",
    cli: "adapters/cli/main.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  splitting: true,
  shims: true,
  clean: true,
  target: "es2022",
  platform: "node",
  // Keep "node:" specifiers as written: Deno and edge bundlers need them.
  removeNodeProtocol: false,
  external: ["ioredis", "@upstash/redis"],
});
