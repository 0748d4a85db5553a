import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const typedoc = join(root, "node_modules/typedoc/bin/typedoc");
const out = mkdtempSync(join(tmpdir(), "pulselock-docs-"));
/** typedoc's outcome, from one run shared by the tests below. */
let result: { ok: true; log: string } | { ok: false; log: string };

beforeAll(async () => {
  // The same configuration as `npm run docs` (typedoc.json), written to a temp dir so the test never touches docs/api.
  result = await run(process.execPath, [typedoc, "--out", out], { cwd: root, timeout: 120_000 }).then(
    ({ stdout, stderr }) => ({ ok: true as const, log: stdout + stderr }),
    (error: { stdout?: string; stderr?: string }) => ({ ok: false as const, log: `${error.stdout ?? ""}${error.stderr ?? ""}` }),
  );
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Every file under `dir` → its text, keyed by its path relative to `dir`. */
function tree(dir: string): Map<string, string> {
  const files = readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile());
  return new Map(files.map((e) => [relative(dir, join(e.parentPath, e.name)), readFileSync(join(e.parentPath, e.name), "utf8")]));
}

it("npm run docs succeeds: every public export is documented, every {@link} resolves (warnings are errors)", () => {
  // The log names each undocumented export, so a failure says what to document.
  expect(
    result.log
      .replace(/\x1b\[[0-9;]*m/g, "")
      .split("\n")
      .filter((l) => /\[(warning|error)\]/.test(l)),
  ).toEqual([]);
  expect(result.ok).toBe(true);
});

it("docs/api is up to date with the TSDoc in src/ and adapters/ (run `npm run docs` and commit after changing either)", () => {
  const generated = tree(out);
  const committed = tree(join(root, "docs/api"));
  expect([...committed.keys()].sort()).toEqual([...generated.keys()].sort());
  for (const [file, text] of generated) expect(committed.get(file), file).toBe(text);
});
