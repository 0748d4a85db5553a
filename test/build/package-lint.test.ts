import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

/**
 * The packed package as registries and type checkers see it (npm test builds
 * first): publint finds nothing to report, and Are The Types Wrong finds no
 * problem under the node16 profile (node16 from CJS and from ESM, and
 * bundler). node10 resolution is left out on purpose: it ignores the exports
 * map, so no subpath (pulselock/node, /deno, …) can resolve there; the root
 * still does, through main and types (docs/runtime-matrix.md).
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

it("attw --pack . --profile node16 reports no problem, on every subpath of the exports map", async () => {
  const out = await run(bin("attw"), ["--pack", ".", "--profile", "node16", "--format", "json"], { cwd: root, maxBuffer: 64 * 1024 * 1024 }).catch(
    (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? "", exitCode: error.code }),
  );
  expect((out as { exitCode?: number }).exitCode).toBeUndefined();
  const report = JSON.parse(out.stdout) as { analysis: { entrypoints: Record<string, unknown>; problems: AttwProblem[] } };
  const problems = report.analysis.problems.filter((p) => p.resolutionKind !== "node10");
  expect(problems).toEqual([]);
  const exportsMap = JSON.parse(readFileSync(`${root}package.json`, "utf8")).exports as Record<string, unknown>;
  expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(Object.keys(exportsMap).sort());
  // The filter above must not hide more than node10's missing subpaths.
  const node10 = report.analysis.problems.filter((p) => p.resolutionKind === "node10");
  expect(node10.every((p) => p.kind === "NoResolution" && p.entrypoint !== ".")).toBe(true);
}, 180_000);
