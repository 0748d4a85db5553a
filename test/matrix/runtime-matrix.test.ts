import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

/**
 * The runtime matrix (test/matrix/run.mjs) over the packed tarball: Node 20
 * and 22 in ESM and CJS, Bun, Deno, workerd and Vercel's edge runtime each
 * pass the same smoke test, the Bun and Deno examples type-check and run, and a job under `bun test`'s fake
 * timers stops with a LockError (test/matrix/smoke/bun-fake-timers.test.mjs).
 * npm test has built dist/ already. The temp project's npm install downloads
 * the runtimes (~150 MB, cached by npm after the first run).
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const RUNTIMES = ["node20-esm", "node20-cjs", "node22-esm", "node22-cjs", "bun", "deno", "deno-node-entry", "workerd", "edge-runtime"];

interface Row {
  id: string;
  ok: boolean;
  exclusive: boolean;
  tokens: boolean;
  signals: boolean;
  blocked: boolean | "n/a";
  exits: boolean | "n/a";
  upstash: boolean | "n/a";
  takeoverMs: number | "n/a" | null;
  error: string | null;
}

it("every runtime passes the smoke test, and the examples type-check and run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulselock-matrix-report-"));
  try {
    const json = join(dir, "matrix.json");
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(root, "test/matrix/run.mjs"), "--json", json], { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    process.stdout.write(out.stdout); // the runtime × result table, in the CI log
    if (!existsSync(json)) throw new Error(`the matrix ended (code ${out.code}) without a report:\n${out.stderr.slice(-6000)}`);
    const report = JSON.parse(readFileSync(json, "utf8")) as {
      rows: Row[];
      examples: { name: string; ok: boolean; error: string | null }[];
      ops: { id: string; ok: boolean; error: string | null }[];
      testRunners: { name: string; ok: boolean; error: string | null }[];
    };
    const failures = [...report.rows, ...report.examples, ...report.ops, ...report.testRunners]
      .filter((r) => !r.ok)
      .map((r) => `${"id" in r ? r.id : r.name}: ${r.error}`);
    expect(failures).toEqual([]);
    expect(report.rows.map((r) => r.id)).toEqual(RUNTIMES);
    expect(report.examples.map((e) => e.name)).toEqual(["bun", "deno"]);
    // pulselock inspect and release, and pulselock/opentelemetry, on each runtime (test/matrix/ops.mjs).
    expect(report.ops.map((o) => o.id)).toEqual(["node", "bun", "deno"]);
    // Bun's test runner fakes time inside the runtime: a job under its fake timers stops, nobody else takes its lock.
    expect(report.testRunners.map((t) => t.name)).toEqual(["bun test, fake timers"]);
    for (const row of report.rows) {
      expect(row.exclusive && row.tokens).toBe(true);
      expect(row.signals, `${row.id}: the run's signal is not exact, or did not end with the run`).toBe(true);
      if (row.takeoverMs !== "n/a") {
        // Within reportTtlMs (2000) plus loose slack for polling and a busy machine.
        expect(row.takeoverMs).toBeGreaterThan(0);
        expect(row.takeoverMs).toBeLessThanOrEqual(5000);
        expect(row.blocked).toBe(true);
        expect(row.exits).toBe(true);
        expect(row.upstash).toBe(true);
      }
    }
    expect(out.code).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);
