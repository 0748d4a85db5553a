import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

/** The Spin model of the protocol passes, and its broken variants are caught (model/check.mjs, docs/model.md). */
it("npm run model: the protocol model holds and every broken variant fails", async () => {
  const script = fileURLToPath(new URL("../../model/check.mjs", import.meta.url));
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = execFile(process.execPath, [script], { maxBuffer: 64 << 20 }, (error, out) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out }),
    );
    child.stdin?.end();
  });
  expect(stdout).toContain("ok   protocol as built (single Redis)");
  expect(stdout).toContain("ok   BROKEN: the deadline ignores clock drift");
  expect(stdout).toContain("model: the protocol passes and every broken variant is caught");
  expect(code).toBe(0);
}, 600_000);
