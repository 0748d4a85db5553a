import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";

/*
 * `npm test` on a machine without spin and gcc: vitest itself, run as npm
 * test runs it but with a PATH that holds neither tool, leaves the model
 * check out and says so under its final count; with the CI switch set, the
 * check runs anyway and fails naming the missing tool.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const emptyPath = mkdtempSync(join(tmpdir(), "pulselock-no-spin-"));
afterAll(() => rmSync(emptyPath, { recursive: true, force: true }));

function vitestWithoutSpin(env: Record<string, string>, ...files: string[]) {
  const r = spawnSync(process.execPath, [`${root}node_modules/vitest/vitest.mjs`, "run", ...files], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, PATH: emptyPath, PULSELOCK_REQUIRE_MODEL_CHECK: "", ...env },
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

it("without spin: the model check is left out, the rest passes, and the summary names what did not run", () => {
  const r = vitestWithoutSpin({}, "test/unit/backoff.test.ts", "test/model/model-check.test.ts");
  expect(r.code, r.out).toBe(0);
  expect(r.out).not.toContain("model-check.test.ts >");
  expect(r.out).toMatch(
    /\d+ passed, 0 failed\nnot run: the Spin model check \(test\/model\/model-check\.test\.ts\) did not run: spin and gcc are not installed/,
  );
}, 180_000);

it("without spin but with PULSELOCK_REQUIRE_MODEL_CHECK=1 (CI): the check runs and fails, naming spin", () => {
  const r = vitestWithoutSpin({ PULSELOCK_REQUIRE_MODEL_CHECK: "1" }, "test/model/model-check.test.ts");
  expect(r.code).not.toBe(0);
  expect(r.out).toContain("model: spin is not installed");
  expect(r.out).toMatch(/0 passed, 1 failed/);
  expect(r.out).not.toContain("not run:");
}, 180_000);
