// Issue 18, item 1: dependencies point one way. src/ is the runtime-agnostic core; adapters/shared is what several
// runtimes share and imports no runtime; each runtime or client adapter imports only src/, adapters/shared and its
// own folder; only the entry files (tsup's entries) compose adapters; cli/ stands outside. And no import circles.
// Read from the sources, type-only imports included: a type that points the wrong way is a dependency too.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ENTRIES } from "../../tools/entries.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const CLIENT_LIBRARIES = /^(ioredis|@upstash\/redis)(\/|$)/;
const FOLDERS = ["src", "adapters", "cli"];

interface Import {
  /** As written. */
  spec: string;
  /** The repository-relative file a relative import names; undefined for packages and builtins. */
  target: string | undefined;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith(".ts"))
    .map((d) => relative(root, join(d.parentPath ?? (d as unknown as { path: string }).path, d.name)));
}

/** The code without comments, so that a word in a comment is not taken for an import or a global. */
function code(file: string): string {
  return readFileSync(join(root, file), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
}

function resolveRelative(from: string, spec: string): string | undefined {
  const base = join(dirname(from), spec);
  return [`${base}.ts`, join(base, "index.ts"), base].find((candidate) => existsSync(join(root, candidate)) && candidate.endsWith(".ts"));
}

/** Every import and re-export of `file`: static, type-only, side-effect and dynamic ones. */
function importsOf(file: string): Import[] {
  const text = code(file);
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gms),
    ...text.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
    ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]!);
  return specs.map((spec) => ({ spec, target: spec.startsWith(".") ? (resolveRelative(file, spec) ?? `${join(dirname(file), spec)} (missing)`) : undefined }));
}

const files = FOLDERS.flatMap(sourceFiles);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

/** The files tsup builds as entries: only they compose the core with several adapters. */
const entries = new Set<string>(Object.values(ENTRIES));

const isRuntimeImport = (spec: string) => builtins.has(spec) || spec.startsWith("node:");
const adapterOf = (file: string) => /^adapters\/([^/]+)\//.exec(file)?.[1];

/** `file: spec` for each import of the files under `folder` that `bad` refuses. */
function offenders(folder: string, bad: (file: string, i: Import) => boolean): string[] {
  return files
    .filter((f) => f.startsWith(`${folder}/`))
    .flatMap((file) =>
      graph
        .get(file)!
        .filter((i) => bad(file, i))
        .map((i) => `${file}: ${i.spec}`),
    );
}

/** Every import circle among the files, each once, as the list of its files (a depth-first search over relative imports). */
function cycles(graph: Map<string, Import[]>): string[][] {
  const found = new Map<string, string[]>();
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    path.push(file);
    for (const { target } of graph.get(file) ?? []) {
      if (!target || !graph.has(target)) continue;
      if (state.get(target) === "open") {
        const cycle = path.slice(path.indexOf(target));
        found.set([...cycle].sort().join(" "), [...cycle, target]);
      } else if (!state.has(target)) {
        visit(target);
      }
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return [...found.values()];
}

describe("dependencies point one way", () => {
  it("reads the sources it checks (so that the checks below can fail)", () => {
    expect(files).toContain("src/index.ts");
    expect(files).toContain("adapters/shared/liveness-session.ts");
    expect(graph.get("adapters/node/thread-liveness.ts")!.some((i) => i.spec === "node:worker_threads")).toBe(true);
    expect(entries).toContain("adapters/node/index.ts");
    const edge = (target: string) => [{ spec: target, target }];
    const circle = new Map([
      ["a", edge("b")],
      ["b", edge("c")],
      ["c", edge("a")],
      ["d", edge("a")],
    ]);
    expect(cycles(circle)).toEqual([["a", "b", "c", "a"]]);
  });

  it("src/ imports nothing from adapters/ or cli/, no Node module and no client library (not even a type)", () => {
    expect(offenders("src", (_, i) => isRuntimeImport(i.spec) || CLIENT_LIBRARIES.test(i.spec) || /^(adapters|cli)\//.test(i.target ?? ""))).toEqual([]);
  });

  it("adapters/shared imports no runtime, no client library, and no other adapter", () => {
    expect(
      offenders(
        "adapters/shared",
        (_, i) => isRuntimeImport(i.spec) || CLIENT_LIBRARIES.test(i.spec) || (i.target !== undefined && !/^(src|adapters\/shared)\//.test(i.target)),
      ),
    ).toEqual([]);
  });

  it("adapters/shared assumes no runtime's globals (Node's process, Deno, Bun)", () => {
    const globals = files
      .filter((f) => f.startsWith("adapters/shared/"))
      .flatMap((file) => [...code(file).matchAll(/(?<![.\w])(process|Deno|Bun)\s*[.?[]/g)].map((m) => `${file}: ${m[1]}`));
    expect(globals).toEqual([]);
  });

  it("an adapter imports only src/, adapters/shared and its own folder; only entry files compose several", () => {
    expect(
      offenders("adapters", (file, i) => {
        if (i.target === undefined || entries.has(file)) return false;
        const own = `adapters/${adapterOf(file)}/`;
        return !(i.target.startsWith("src/") || i.target.startsWith("adapters/shared/") || i.target.startsWith(own));
      }),
    ).toEqual([]);
  });

  it("nothing in src/ or adapters/ imports cli/, the development tools", () => {
    expect([...offenders("src", (_, i) => /^cli\//.test(i.target ?? "")), ...offenders("adapters", (_, i) => /^cli\//.test(i.target ?? ""))]).toEqual([]);
  });

  it("there is no import circle among src/, adapters/ and cli/ (type-only imports included)", () => {
    expect(cycles(graph).map((cycle) => cycle.join(" -> "))).toEqual([]);
  });
});
