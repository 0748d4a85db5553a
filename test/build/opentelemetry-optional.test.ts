import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { ENTRIES } from "../../tools/entries.mjs";

/*
 * "Without it, nothing is loaded": @opentelemetry/api is an optional peer
 * dependency that only pulselock/opentelemetry imports. Every other built
 * entry, bundled with all it imports (dynamic imports included), never reaches
 * it; the adapter reaches it and nothing from Node, so it runs on edge runtimes.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Every bare import the bundle of `entry` leaves outside (packages and node: modules), deduplicated. */
async function externalImports(entry: string): Promise<string[]> {
  const seen = new Set<string>();
  await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: "neutral",
    format: "esm",
    logLevel: "silent",
    plugins: [
      {
        name: "record-external-imports",
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            seen.add(args.path);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return [...seen];
}

describe("@opentelemetry/api is loaded only through pulselock/opentelemetry", () => {
  const others = Object.keys(ENTRIES).filter((name) => name !== "opentelemetry");

  it.each(others)("dist/%s.js reaches no @opentelemetry package", async (name) => {
    const imports = await externalImports(`${root}dist/${name}.js`);
    expect(imports.filter((p) => p.startsWith("@opentelemetry/"))).toEqual([]);
  });

  it("dist/opentelemetry.js imports @opentelemetry/api and nothing from Node or a Redis client", async () => {
    const imports = await externalImports(`${root}dist/opentelemetry.js`);
    expect(imports).toContain("@opentelemetry/api");
    expect(imports.filter((p) => builtins.has(p) || p.startsWith("node:") || /^(ioredis|@upstash\/redis)(\/|$)/.test(p))).toEqual([]);
  });
});
