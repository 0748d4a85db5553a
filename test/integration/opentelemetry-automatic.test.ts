import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS, SPAN_NAME } from "pulselock/opentelemetry";
import { startRedis } from "../support/redis-server.mjs";

/*
 * The Locker of Node and Bun reports through @opentelemetry/api when that
 * package is installed and the option is left out, and loads nothing when it
 * is not installed. Real programs in child processes (fresh global providers):
 * one that registers the SDK globally, as an application does, and one run
 * from a project where the package is absent (a copy of the built package
 * next to ioredis only).
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = fileURLToPath(new URL("../support/fixtures/otel-automatic.mjs", import.meta.url));
let server: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.close();
});

async function sdkSaw(mode: "default" | "off"): Promise<{ metrics: string[]; spans: string[] }> {
  const { stdout } = await run(process.execPath, [fixture, server.url, mode], { cwd: root, timeout: 30_000 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as { metrics: string[]; spans: string[] };
}

describe("automatic OpenTelemetry on Node", () => {
  it("with @opentelemetry/api installed and an SDK registered, a Locker without the option records metrics and a span", async () => {
    const saw = await sdkSaw("default");
    expect(saw.metrics).toEqual(expect.arrayContaining([METRICS.acquisitions, METRICS.acquireDuration, METRICS.livenessWriteDuration]));
    expect(saw.spans).toEqual([SPAN_NAME]);
  });

  it("instrumentation: false turns it off", async () => {
    expect(await sdkSaw("off")).toEqual({ metrics: [], spans: [] });
  });

  it("without @opentelemetry/api installed, a Locker works and nothing of OpenTelemetry is loaded", async () => {
    const project = mkdtempSync(join(tmpdir(), "pulselock-no-otel-"));
    try {
      const pkg = join(project, "node_modules", "pulselock");
      mkdirSync(pkg, { recursive: true });
      cpSync(join(root, "dist"), join(pkg, "dist"), { recursive: true });
      cpSync(join(root, "package.json"), join(pkg, "package.json"));
      // ioredis from this repository, resolved through its real path (its own dependencies sit next to it there).
      symlinkSync(join(root, "node_modules", "ioredis"), join(project, "node_modules", "ioredis"), "dir");
      const program = join(project, "main.mjs");
      writeFileSync(
        program,
        `import { Locker, LockStatus } from "pulselock";
import Redis from "ioredis";
const redis = new Redis(process.argv[2]);
const locker = new Locker({ database: redis });
const res = await locker.acquireAndRun("no-otel-" + process.pid, async () => "ran");
await locker.terminate();
await redis.quit();
const { createRequire } = await import("node:module");
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes("@opentelemetry"));
console.log(JSON.stringify({ status: res.status === LockStatus.SUCCESS, result: res.result, loaded }));
`,
      );
      const { stdout } = await run(process.execPath, [program, server.url], { cwd: project, timeout: 30_000 });
      expect(JSON.parse(stdout.trim())).toEqual({ status: true, result: "ran", loaded: [] });
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
