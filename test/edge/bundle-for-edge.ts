import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Bundles TypeScript `source` (resolved from the repository root) into one
 * script for Vercel's edge runtime, with pulselock's built, runtime-agnostic
 * root entry. As Next.js does for edge routes, process.env is inlined at
 * build time (@vercel/functions reads it); the runtime itself has no process.
 */
export async function bundleForEdge(source: string, env: Record<string, string> = {}): Promise<string> {
  const out = await build({
    stdin: { contents: source, resolveDir: root, loader: "ts" },
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2022",
    conditions: ["edge-light", "worker", "browser"],
    alias: { pulselock: `${root}dist/index.js` },
    define: { "process.env": JSON.stringify(env) },
    logLevel: "silent",
  });
  return out.outputFiles[0]!.text;
}
