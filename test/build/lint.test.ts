import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

/*
 * `npm run lint` in CI: each of its checks fails the suite, with the tool's own report as the failure message.
 * They run one by one here without its build step (npm test has built dist/, which tests running meanwhile use):
 * eslint (the rules and the dependency direction of eslint.config.js), prettier --check and tsc (tsup builds
 * through type errors, so only tsc catches them).
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

/** Runs a tool of node_modules/.bin from the root; resolves to its exit code and everything it printed. */
async function tool(name: string, args: string[]): Promise<{ code: number; output: string }> {
  return run(`${root}node_modules/.bin/${name}`, args, { cwd: root, timeout: 280_000, maxBuffer: 64 << 20 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number | string; stdout?: string; stderr?: string; message: string }) => ({
      code: typeof error.code === "number" ? error.code : -1,
      output: `${error.stdout ?? ""}${error.stderr ?? ""}` || error.message,
    }),
  );
}

it("npm run lint runs eslint, prettier --check and tsc, after a build", () => {
  const { scripts } = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { scripts: Record<string, string> };
  expect(scripts.lint).toBe("node tools/build-quietly.mjs && eslint . && prettier --check . && tsc --noEmit -p tsconfig.json");
  expect(scripts.format).toBe("prettier --write .");
});

it("eslint finds no problem", async () => {
  const { code, output } = await tool("eslint", [".", "--max-warnings", "0"]);
  expect(code, output).toBe(0);
}, 300_000);

it("prettier finds every file formatted", async () => {
  const { code, output } = await tool("prettier", ["--check", "."]);
  expect(code, output).toBe(0);
}, 300_000);

it("tsc finds no type error", async () => {
  const { code, output } = await tool("tsc", ["--noEmit", "-p", "tsconfig.json"]);
  expect(code, output).toBe(0);
}, 300_000);
