import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startRedis } from "../support/redis-server.mjs";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
let server: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.close();
});

it("the seed's README example runs as written (CommonJS, require, moduleName: __filename) and exits by itself", async () => {
  const { stdout } = await run(process.execPath, ["examples/seed-example/seed-example.cjs"], {
    cwd: root,
    env: { ...process.env, REDIS_URL: server.url },
    timeout: 30_000,
  });
  expect(stdout).toContain("status: 'SUCCESS'");
  expect(stdout).toContain("5 steps of work");
});

it("every example type-checks against the built package (TypeScript ones, and JavaScript ones marked // @ts-check)", async () => {
  const tsc = fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url));
  const { stdout } = await run(process.execPath, [tsc, "--noEmit", "-p", "examples/tsconfig.json"], { cwd: root, timeout: 120_000 }).catch(
    (error: { stdout?: string }) => {
      throw new Error(`tsc found errors in examples/:\n${error.stdout}`);
    },
  );
  expect(stdout).toBe("");
});

it("cron singleton: 4 instances tick every second; each tick's job completes exactly once, and a SIGKILLed run is redone after the liveness TTL", async () => {
  const { stdout } = await run(process.execPath, ["examples/cron-singleton/main.mjs"], {
    cwd: root,
    env: { ...process.env, REDIS_URL: server.url, CRON_INTERVAL_MS: "1000", CRON_TICKS: "8" },
    timeout: 90_000,
  }).catch((error: { stdout?: string; message: string }) => ({ stdout: `${error.stdout ?? ""}\n${error.message}` }));
  expect(stdout).toContain("✔ exactly once: 8/8 ticks completed once fleet-wide");
  expect(stdout).toContain("✔ exclusivity: no tick ever ran on two live instances at once");
  expect(stdout).toMatch(/✔ takeover: instance-\d redid tick 2/);
  expect(stdout).toContain("✔ nothing leaked");
  expect(stdout).toMatch(/\nOK in /);
});

it("node worker fleet: a SIGTERMed worker drains and its partitions get new consumers well within reportTtlMs; never two consumers at once", async () => {
  const { stdout } = await run(process.execPath, ["examples/node-worker-fleet/main.mjs"], {
    cwd: root,
    env: { ...process.env, REDIS_URL: server.url },
    timeout: 90_000,
  }).catch((error: { stdout?: string; message: string }) => ({ stdout: `${error.stdout ?? ""}\n${error.message}` }));
  expect(stdout).toMatch(/✔ one consumer per partition: \d+ holds checked, none overlapped/);
  expect(stdout).toMatch(/✔ drain: worker-\d's [1-9] partitions had new consumers/);
  expect(stdout).toContain("✔ nothing leaked");
  expect(stdout).toMatch(/\nOK in /);
});
