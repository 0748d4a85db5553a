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
