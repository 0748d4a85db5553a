import { defineConfig } from "tsup";
import { compactLua } from "./src/scripts/script";
import { compactLuaPlugin } from "./tools/compact-lua-plugin.mjs";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    internal: "src/internal.ts",
    node: "adapters/node/index.ts",
    ioredis: "adapters/ioredis/index.ts",
    upstash: "adapters/upstash/index.ts",
    "liveness-worker": "adapters/node/liveness-worker.ts",
    deno: "adapters/deno/index.ts",
    // Spawned by URL next to the Deno entry, so it must be a file of its own.
    "deno-liveness-worker": "adapters/deno/deno-liveness-worker.ts",
    cli: "cli/main.ts",
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
  // The Lua scripts ship compact (no comments, no indentation): the readable text stays in src/.
  esbuildPlugins: [compactLuaPlugin(compactLua)],
});
