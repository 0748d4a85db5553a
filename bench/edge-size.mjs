// Measures the edge entry (pulselock's root: core + Upstash adapter, without
// @upstash/redis) minified and gzipped, as a Worker bundle would carry it.
// Usage: npm run build && node bench/edge-size.mjs   (exits 1 above the 8 kB budget)
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const BUDGET = 8 * 1024;
const root = fileURLToPath(new URL("../", import.meta.url));
const result = await build({
  stdin: {
    contents: 'export { Locker, RedisDatabase, LockStatus } from "pulselock"; export { upstashTransport } from "pulselock/upstash";',
    resolveDir: root,
  },
  bundle: true,
  write: false,
  minify: true,
  format: "esm",
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  alias: { "pulselock/upstash": `${root}dist/upstash.js`, pulselock: `${root}dist/index.js` },
  external: ["@upstash/redis"],
  logLevel: "silent",
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
console.log(`edge entry: ${code.length} B minified, ${gzipped} B min+gzip (budget ${BUDGET} B)`);
process.exitCode = gzipped <= BUDGET ? 0 : 1;
