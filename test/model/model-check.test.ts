import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

/**
 * The Spin model of the protocol passes, and its broken variants are caught (model/check.mjs, docs/model.md).
 * Needs spin and gcc: without them vitest.config.ts leaves this file out and the final summary says so
 * (test/model/model-tools.mjs); CI makes it mandatory, and then a missing tool fails here, by name.
 */
it("npm run model: the protocol model holds and every broken variant fails", async () => {
  const script = fileURLToPath(new URL("../../model/check.mjs", import.meta.url));
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [script], { maxBuffer: 64 << 20 }, (error, out, err) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
    );
    child.stdin?.end();
  });
  // The script's own words first: a missing tool or a surprise is on stderr, and must be what the failure shows.
  expect(code, `model/check.mjs exited with ${code}:\n${stderr}\n${stdout.slice(-2000)}`).toBe(0);
  expect(stdout).toContain("ok   protocol as built (single Redis)");
  expect(stdout).toContain("ok   BROKEN: the deadline ignores clock drift");
  expect(stdout).toContain("ok   BROKEN: release always deletes the key (no tombstone of the token)");
  expect(stdout).toContain("ok   semaphore as built (3 processes, limit 2, single Redis)");
  expect(stdout).toContain("ok   BROKEN: semaphore admits one permit too many");
  expect(stdout).toContain("ok   BROKEN: semaphore, the deadline ignores clock drift");
  expect(stdout).toContain("model: the protocol passes and every broken variant is caught");
}, 900_000);
