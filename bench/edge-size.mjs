// Measures the edge entry (pulselock's root: core + Upstash adapter, without
// @upstash/redis) minified and gzipped, as a Worker bundle would carry it.
// Usage: npm run build && node bench/edge-size.mjs [--modules]
//   (exits 1 above the guard, EDGE_BUDGET; --modules also lists each source file's
//   minified bytes in the bundle, built from src/ rather than dist/)
// test/build/edge-size.test.ts runs measureEdgeEntry() against the same budget.
import { gzipSync } from "node:zlib";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { compactLuaPlugin } from "../tools/compact-lua-plugin.mjs";

/**
 * A guard against regressions, not a limit of the platforms: a Worker's script may be 3 MB, and
 * @upstash/redis, which every Upstash user bundles anyway, is 17.7 kB min+gzip on its own. What it
 * catches is growth nobody meant: a Node-only module or a client library pulled into the core, readable
 * Lua shipped with its comments (tools/compact-lua-plugin.mjs), a dependency added to the core.
 */
export const EDGE_BUDGET = 26 * 1024;
/** Where issue 19 wants the entry (not met: 25,900 B on 2026-12-07, 15,653 B before the semaphore and multi-key lock; docs/decisions.md, "Edge bundles"). */
export const EDGE_TARGET = 12 * 1024;
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

/** The edge entry built from dist/ (run `npm run build` first): its minified and its min+gzip bytes. */
export async function measureEdgeEntry() {
  const result = await build({
    ...common,
    stdin: { contents: entry("pulselock", "pulselock/upstash"), resolveDir: root },
    alias: { "pulselock/upstash": `${root}dist/upstash.js`, pulselock: `${root}dist/index.js` },
  });
  const code = result.outputFiles[0].contents;
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
}

/** Each source file's minified bytes in the same entry, built from src/ (the Lua compacted as the build does). */
async function sourceShares() {
  const { tsImport } = await import("tsx/esm/api");
  const { compactLua } = await tsImport("../src/scripts/script.ts", import.meta.url);
  const fromSource = await build({
    ...common,
    metafile: true,
    plugins: [compactLuaPlugin(compactLua)],
    stdin: { contents: entry("./src/index.ts", "./adapters/upstash/index.ts"), resolveDir: root, loader: "ts" },
  });
  const rows = Object.values(fromSource.metafile.outputs).flatMap((o) => Object.entries(o.inputs));
  return rows.filter(([, { bytesInOutput }]) => bytesInOutput > 0).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { minified, gzipped } = await measureEdgeEntry();
  console.log(`edge entry: ${minified} B minified, ${gzipped} B min+gzip (CI guard ${EDGE_BUDGET} B against regressions; target ${EDGE_TARGET} B)`);
  if (process.argv.includes("--modules"))
    for (const [file, { bytesInOutput }] of await sourceShares()) console.log(`${String(bytesInOutput).padStart(6)} B  ${file}`);
  process.exitCode = gzipped <= EDGE_BUDGET ? 0 : 1;
}
