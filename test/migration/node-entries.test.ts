// Issue 16: a { moduleName, exportName } database loads in the main thread and in the liveness thread from
// any Node entry: an ESM or CommonJS file, or `--input-type=module -e` (whose options a worker refuses), with
// the module named as require() names it (an absolute path without its extension).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixturePath } from "../support/child-process";
import { projectPath, runIn, useRedisFor } from "./user-project";

const env = useRedisFor();

const ENTRY_ESM = projectPath("entries/lock-once.mjs");
const ENTRY_CJS = projectPath("entries/lock-once.cjs");
const DATABASES = {
  "an ESM module": { moduleName: fixturePath("db-plain"), prefix: "ref-plain-esm:" },
  "a CommonJS module": { moduleName: fixturePath("cjs-scope/db"), prefix: "ref-plain-cjs:" },
};

/** Runs node with `args` from the repository root (where "pulselock" resolves to this package) and parses its JSON line. */
async function lockOnce(args: string[], database: { moduleName: string; prefix: string }) {
  const run = await runIn("entries", process.execPath, args, {
    ...env(),
    PULSELOCK_TEST_DB_MODULE: database.moduleName,
    PULSELOCK_TEST_PREFIX: database.prefix,
  });
  const line = run.stdout.trim().split("\n").at(-1) ?? "";
  return { code: run.code, ...(line.startsWith("{") ? JSON.parse(line) : { stdout: run.stdout, stderr: run.stderr }) };
}

describe("a database named by an absolute path without its extension", () => {
  for (const [label, database] of Object.entries(DATABASES)) {
    it(`loads ${label} from an ESM entry`, async () => {
      expect(await lockOnce([ENTRY_ESM], database)).toEqual({ code: 0, success: true, liveness: 1 });
    });
    it(`loads ${label} from a CommonJS entry`, async () => {
      expect(await lockOnce([ENTRY_CJS], database)).toEqual({ code: 0, success: true, liveness: 1 });
    });
  }
});

describe("a main program started with options that a worker thread refuses", () => {
  it("node --input-type=module -e …, with a per-process V8 option too", async () => {
    const code = readFileSync(ENTRY_ESM, "utf8");
    const args = ["--max-old-space-size=256", "--input-type=module", "-e", code];
    const database = { moduleName: fixturePath("db-esm.mjs"), prefix: "ref-esm:" };
    expect(await lockOnce(args, database)).toEqual({ code: 0, success: true, liveness: 1 });
  });
});
