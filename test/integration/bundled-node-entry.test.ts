import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, expect, it } from "vitest";
import { useUpstashStack } from "../support/upstash-stack";

/**
 * The Node entry bundled into an app's server file, as Next.js does with webpack or Turbopack: the liveness
 * thread's file is no longer beside the code that spawns it. It is found in the pulselock package the app has
 * installed; without one, the first acquire fails with an error that names the fix. ioredis is not in the
 * bundle's reach at all (an Upstash-only app).
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const stack = useUpstashStack();
let dir: string;

const SERVER = `
import { Redis } from "@upstash/redis";
import { Locker, RedisDatabase } from "pulselock";
const locker = new Locker({ database: new RedisDatabase(new Redis({ url: process.env.URL, token: process.env.TOKEN, enableTelemetry: false })) });
try {
  const res = await locker.acquireAndRun("bundled-" + process.pid, () => "ran");
  console.log(JSON.stringify({ status: res.status, result: res.result }));
} catch (error) {
  console.log(JSON.stringify({ error: error.name + ": " + error.message }));
} finally {
  await locker.terminate();
}
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pulselock-bundled-"));
  await build({
    stdin: { contents: SERVER, resolveDir: dir, loader: "js" },
    outfile: join(dir, "server", "app.mjs"),
    bundle: true,
    format: "esm",
    platform: "node",
    conditions: ["node"],
    alias: { pulselock: join(root, "dist/node.js") },
    nodePaths: [join(root, "node_modules")], // @upstash/redis, bundled in like the app's own code
    logLevel: "silent",
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function serve(cwd: string): Promise<{ status?: string; result?: string; error?: string }> {
  const { stdout } = await run(process.execPath, [join(dir, "server", "app.mjs")], {
    cwd,
    env: { ...process.env, URL: stack.rest.url, TOKEN: stack.rest.token },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

it("without an installed pulselock, the first acquire fails with an error that names the fix", async () => {
  const bare = join(dir, "bare");
  mkdirSync(bare);
  const { error } = await serve(bare);
  expect(error).toMatch(/^LivenessError: pulselock: cannot find the liveness thread's file liveness-worker\.js/);
  expect(error).toContain('serverExternalPackages: ["pulselock"]');
});

it("with pulselock installed in the app (as under next start), the liveness thread runs from the package", async () => {
  const app = join(dir, "app");
  mkdirSync(join(app, "node_modules"), { recursive: true });
  symlinkSync(root, join(app, "node_modules", "pulselock"), "dir");
  expect(await serve(app)).toEqual({ status: "SUCCESS", result: "ran" });
  expect(await stack.admin.dbsize()).toBe(0);
});
