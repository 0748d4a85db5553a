import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

/*
 * `npm run demo` shows the demo and nothing else on success: its build step
 * (tools/build-quietly.mjs) keeps the build log to itself unless the build
 * fails. The real build is not run here: it empties dist/, which the tests
 * running meanwhile use; the wrapper is run around stand-in commands instead.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const quietly = (...command: string[]) =>
  spawnSync(process.execPath, ["tools/build-quietly.mjs", ...command], { cwd: root, encoding: "utf8", timeout: 30_000 });
const noisy = (code: number) => [process.execPath, "-e", `console.log("build line 1"); console.error("build line 2"); process.exit(${code})`];

it("the demo script builds through the quiet wrapper, then runs the demo", () => {
  const { scripts } = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { scripts: Record<string, string> };
  expect(scripts.demo).toBe("node tools/build-quietly.mjs && node examples/demo/demo.mjs");
});

it("a build that succeeds prints nothing", () => {
  const r = quietly(...noisy(0));
  expect(r.status).toBe(0);
  expect(r.stdout + r.stderr).toBe("");
});

it("a build that fails prints its whole log and fails with its exit code", () => {
  const r = quietly(...noisy(3));
  expect(r.status).toBe(3);
  expect(r.stderr).toContain("build line 1");
  expect(r.stderr).toContain("build line 2");
  expect(r.stderr).toMatch(/the build failed \(exit code 3\)/);
});

it("with no command it runs tsup, the package's build", () => {
  expect(readFileSync(`${root}tools/build-quietly.mjs`, "utf8")).toContain("node_modules/.bin/tsup");
  expect((JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { scripts: { build: string } }).scripts.build).toBe("tsup");
});
