import { defineConfig } from "tsup";
import { compactLua } from "./src/scripts/script";
import { compactLuaPlugin } from "./tools/compact-lua-plugin.mjs";
import { ENTRIES } from "./tools/entries.mjs";

export default defineConfig({
  entry: ENTRIES,
  format: ["esm", "cjs"],
  dts: true,
  splitting: true,
  shims: true,
  clean: true,
  target: "es2022",
  platform: "node",
  // Keep "node:" specifiers as written: Deno and edge bundlers need them.
  removeNodeProtocol: false,
  external: ["ioredis", "@upstash/redis", "@opentelemetry/api"],
  // The Lua scripts ship compact (no comments, no indentation): the readable text stays in src/.
  esbuildPlugins: [compactLuaPlugin(compactLua)],
});
