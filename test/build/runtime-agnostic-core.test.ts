import { builtinModules } from "node:module";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const clientLibraries = /^(ioredis|@upstash\/redis)(\/|$)/;

/** Bundles an entry for a platform with no Node at all and returns every import it could not resolve inside the bundle. */
async function foreignImports(entry: string): Promise<string[]> {
  const seen: string[] = [];
  await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: "neutral",
    format: "esm",
    logLevel: "silent",
    plugins: [
      {
        name: "record-foreign-imports",
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (builtins.has(args.path) || args.path.startsWith("node:") || clientLibraries.test(args.path)) {
              seen.push(args.path);
              return { path: args.path, external: true };
            }
            return undefined;
          });
        },
      },
    ],
  });
  return seen;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith(".ts"))
    .map((d) => `${d.parentPath ?? (d as unknown as { path: string }).path}/${d.name}`);
}

describe("the root entry is runtime-agnostic", () => {
  it("bundles src/index.ts for a neutral platform without any node: or client-library import", async () => {
    expect(await foreignImports(`${root}src/index.ts`)).toEqual([]);
  });

  it("the built root entry (dist/index.js) has no node: or client-library import either", async () => {
    expect(await foreignImports(`${root}dist/index.js`)).toEqual([]);
  });

  it("the Node entry does import node: modules (so the check above can fail)", async () => {
    expect((await foreignImports(`${root}dist/node.js`)).some((p) => p.startsWith("node:"))).toBe(true);
  });

  it("no file in src/ imports a Node module or a client library at runtime", () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(`${root}src`)) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^\s*import\s+(?!type\b)[^;]*?from\s+["']([^"']+)["']/gms)) {
        const spec = m[1]!;
        if (builtins.has(spec) || spec.startsWith("node:") || clientLibraries.test(spec)) offenders.push(`${file}: ${spec}`);
      }
      for (const m of text.matchAll(/\b(?:require|import)\(\s*["']([^"']+)["']/g)) {
        const spec = m[1]!;
        if (builtins.has(spec) || spec.startsWith("node:") || clientLibraries.test(spec)) offenders.push(`${file}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("dependencies point one way: no file in src/ imports from adapters/ (not even a type)", () => {
    const offenders = sourceFiles(`${root}src`).flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/\bfrom\s+["']([^"']*\badapters\/[^"']*)["']|\bimport\(\s*["']([^"']*\badapters\/[^"']*)["']/g)].map(
        (m) => `${file}: ${m[1] ?? m[2]}`,
      ),
    );
    expect(offenders).toEqual([]);
  });
});
