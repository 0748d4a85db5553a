import { execFile } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

/**
 * The packed package as registries and type checkers see it (npm test builds
 * first): publint finds nothing to report, and Are The Types Wrong, without a
 * profile, finds no problem under any module resolution: node10 (the old
 * "node", which ignores the exports map: typesVersions maps each subpath to
 * its types), node16 from CJS and from ESM, and bundler.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;

interface AttwProblem {
  kind: string;
  entrypoint?: string;
  resolutionKind?: string;
}

it("publint reports no errors, warnings or suggestions", async () => {
  const { stdout } = await run(bin("publint"), [], { cwd: root });
  expect(stdout).toContain("All good!");
}, 120_000);

it("attw --pack . reports no problem, on every subpath of the exports map, under every module resolution", async () => {
  const out = await run(bin("attw"), ["--pack", ".", "--format", "json"], { cwd: root, maxBuffer: 64 * 1024 * 1024 }).catch(
    (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? "", exitCode: error.code }),
  );
  const report = JSON.parse(out.stdout) as {
    analysis: { entrypoints: Record<string, { resolutions: Record<string, unknown> }>; problems: AttwProblem[] };
  };
  expect(report.analysis.problems).toEqual([]);
  expect((out as { exitCode?: number }).exitCode).toBeUndefined();
  const exportsMap = JSON.parse(readFileSync(`${root}package.json`, "utf8")).exports as Record<string, unknown>;
  expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(Object.keys(exportsMap).sort());
  for (const entry of Object.values(report.analysis.entrypoints)) {
    expect(Object.keys(entry.resolutions).sort()).toEqual(["bundler", "node10", "node16-cjs", "node16-esm"]);
  }
}, 180_000);

it("typesVersions names every subpath of the exports map, for node10 resolution", () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { exports: Record<string, unknown>; typesVersions: { "*": Record<string, string[]> } };
  const subpaths = Object.keys(pkg.exports)
    .filter((p) => p !== "." && !p.endsWith(".json"))
    .map((p) => p.slice(2));
  expect(Object.keys(pkg.typesVersions["*"]).sort()).toEqual(subpaths.sort());
});

it("no declaration file imports a client library: an app that installs only the client it uses type-checks with skipLibCheck off", () => {
  // Found by an attack pass: dist/ioredis.d.ts imported ioredis's types (a Pick of its class), and the Node entry's
  // declarations import that file, so an Upstash-only app failed `tsc` under node16 with TS2307.
  const files = readdirSync(`${root}dist`).filter((f) => /\.d\.c?ts$/.test(f));
  expect(files.length).toBeGreaterThan(10);
  for (const file of files) {
    const imports = [...readFileSync(`${root}dist/${file}`, "utf8").matchAll(/^(?:import|export)\b[^\n]*?['"]([^'".][^'"]*)['"];?$/gm)].map((m) => m[1]);
    // @opentelemetry/api only in the subpath whose users install it.
    expect(
      imports.filter((name) => !(name === "@opentelemetry/api" && file.startsWith("opentelemetry."))),
      file,
    ).toEqual([]);
  }
});
