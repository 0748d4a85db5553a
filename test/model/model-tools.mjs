// Whether `npm test` runs the Spin model check (test/model/model-check.test.ts). It needs two system
// packages, spin and gcc (Debian: apt-get install spin gcc). Without them the suite leaves that one file
// out and says so under its final count (test/support/count-reporter.ts), so a fresh machine with only
// what the Quick start names still passes. CI sets PULSELOCK_REQUIRE_MODEL_CHECK=1 (.ci/run): there the
// file always runs, and fails naming the missing tool.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export const MODEL_CHECK_TEST = "test/model/model-check.test.ts";
export const REQUIRE_MODEL_CHECK = "PULSELOCK_REQUIRE_MODEL_CHECK";
const TOOLS = ["spin", "gcc"];

/** Whether an executable named `name` is on PATH (what a shell's `command -v` finds). */
function onPath(name) {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir || ".", name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why the model check does not run in this `npm test`, or undefined when it runs. */
export function modelCheckSkipReason() {
  if (process.env[REQUIRE_MODEL_CHECK] === "1") return undefined;
  const missing = TOOLS.filter((tool) => !onPath(tool));
  if (missing.length === 0) return undefined;
  return (
    `the Spin model check (${MODEL_CHECK_TEST}) did not run: ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} ` +
    `not installed (Debian: apt-get install spin gcc; ${REQUIRE_MODEL_CHECK}=1 makes it mandatory)`
  );
}
