// Measures the edge entry (pulselock's root: core + Upstash adapter, without
// @upstash/redis) minified and gzipped, as a Worker bundle would carry it.
// Usage: npm run build && node bench/edge-size.mjs [--modules]
//   (exits 1 above the 8 kB budget; --modules also lists each source file's
//   minified bytes in the bundle, built from src/ rather than dist/)
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const BUDGET = 8 * 1024;
const root = fileURLToPath(new URL("../", import.meta.url));
const common = {
  bundle: true,
  write: false,
  minify: true,
  format: "esm",
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  external: ["@upstash/redis"],
  logLevel: "silent",
};
const entry = (from, upstash) => `export { Locker, RedisDatabase, LockStatus } from "${from}"; export { upstashTransport } from "${upstash}";`;

const result = await build({
  ...common,
  stdin: { contents: entry("pulselock", "pulselock/upstash"), resolveDir: root },
  alias: { "pulselock/upstash": `${root}dist/upstash.js`, pulselock: `${root}dist/index.js` },
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
console.log(`edge entry: ${code.length} B minified, ${gzipped} B min+gzip (budget ${BUDGET} B)`);

if (process.argv.includes("--modules")) {
  const fromSource = await build({
    ...common,
    metafile: true,
    stdin: { contents: entry("./src/index.ts", "./adapters/upstash/index.ts"), resolveDir: root, loader: "ts" },
  });
  const rows = Object.values(fromSource.metafile.outputs).flatMap((o) => Object.entries(o.inputs));
  rows.sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
  for (const [file, { bytesInOutput }] of rows) if (bytesInOutput > 0) console.log(`${String(bytesInOutput).padStart(6)} B  ${file}`);
}
process.exitCode = gzipped <= BUDGET ? 0 : 1;
