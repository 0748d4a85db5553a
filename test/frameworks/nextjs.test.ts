import { cpSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScenarioApp, backgroundJob, concurrentRounds, noKeysLeft } from "../support/lock-scenario";
import { useUpstashStack } from "../support/upstash-stack";
import { waitFor } from "../support/wait-for";
import { type AppServer, type PreparedApp, getJson, hasModule, prepareApp, runIn, startServer } from "./app-server";

/**
 * examples/nextjs (App Router: /api/node/job with runtime "nodejs", /api/edge/job with runtime "edge", one
 * module-scope Locker each, Upstash only) under the real Next.js 16: `next build && next start` with
 * Turbopack and with webpack, and `next dev`. The app is installed outside the repository, without ioredis.
 */
const stack = useUpstashStack();
let app: PreparedApp;

beforeAll(async () => {
  app = await prepareApp("nextjs");
}, 600_000);
afterAll(() => app?.remove());

const env = () => ({
  UPSTASH_REDIS_REST_URL: stack.rest.url,
  UPSTASH_REDIS_REST_TOKEN: stack.rest.token,
  NEXT_TELEMETRY_DISABLED: "1",
});
const next = () => join(app.dir, "node_modules/next/dist/bin/next");

it("the app has no ioredis to fall back on (it uses only @upstash/redis)", () => {
  expect(hasModule(app.dir, "@upstash/redis")).toBe(true);
  expect(hasModule(app.dir, "ioredis")).toBe(false);
});

/**
 * The README's settings for `output: "standalone"`, the server then moved away from the app, whose
 * node_modules is hidden meanwhile: only what Next traced into the standalone folder can be used.
 */
const standaloneConfig = (external: boolean) => `import type { NextConfig } from "next";
const nextConfig: NextConfig = { output: "standalone"${external ? ', serverExternalPackages: ["@upstash/redis"]' : ""} };
export default nextConfig;
`;

async function startStandalone(external = true): Promise<AppServer> {
  writeFileSync(join(app.dir, "next.config.ts"), standaloneConfig(external));
  await runIn(app.dir, process.execPath, [next(), "build"], env(), 400_000);
  const moved = mkdtempSync(join(tmpdir(), "pulselock-standalone-"));
  cpSync(join(app.dir, ".next/standalone"), moved, { recursive: true });
  renameSync(join(app.dir, "node_modules"), join(app.dir, "node_modules.hidden"));
  const restore = () => {
    renameSync(join(app.dir, "node_modules.hidden"), join(app.dir, "node_modules"));
    rmSync(moved, { recursive: true, force: true });
  };
  try {
    const server = await startServer(moved, process.execPath, ["server.js"], /Ready in/, { ...env(), HOSTNAME: "127.0.0.1" });
    return { ...server, stop: async () => (await server.stop(), restore()) };
  } catch (error) {
    restore();
    throw error;
  }
}

describe('output: "standalone" without serverExternalPackages, run from another directory', () => {
  let server: AppServer;
  beforeAll(async () => {
    server = await startStandalone(false);
  }, 600_000);
  afterAll(async () => {
    await server?.stop();
    await noKeysLeft(stack.admin);
  }, 60_000);

  it("the Node route's first acquire fails with an error that names the setting", async () => {
    const res = await fetch(`${server.url}/api/node/job?key=standalone-bare-${crypto.randomUUID()}`);
    expect(res.status).toBe(500);
    await waitFor("the error in the server's output", () => server.output().includes("cannot import @upstash/redis"));
    expect(server.output()).toContain('serverExternalPackages: ["@upstash/redis"]');
  });
});

describe.each([
  { mode: "next build && next start (Turbopack)", build: [] as string[] },
  { mode: "next build --webpack && next start", build: ["--webpack"] },
  { mode: "next dev", build: undefined },
  { mode: 'next build with output: "standalone", run from another directory', build: "standalone" as const },
])("$mode", ({ build }) => {
  let server: AppServer;

  beforeAll(async () => {
    if (build === "standalone") {
      server = await startStandalone();
    } else if (build) {
      const out = await runIn(app.dir, process.execPath, [next(), "build", ...build], env(), 400_000);
      expect(out).toMatch(/\/api\/node\/job/);
      server = await startServer(app.dir, process.execPath, [next(), "start", "-p", "{port}", "-H", "127.0.0.1"], /Ready in/, env());
    } else {
      server = await startServer(app.dir, process.execPath, [next(), "dev", "-p", "{port}", "-H", "127.0.0.1"], /Ready in/, env());
    }
  }, 600_000);
  afterAll(async () => {
    await server?.stop();
    // The Node route's liveness thread ends with the server: its record expires within reportTtlMs (3 s).
    await noKeysLeft(stack.admin);
  }, 60_000);

  describe.each(["node", "edge"])("the %s route", (runtime) => {
    const scenario = (): ScenarioApp => ({
      call: (query) => getJson(`${server.url}/api/${runtime}/job?${query}`),
      output: () => server.output(),
      admin: stack.admin,
    });

    it("answers; 10 concurrent requests for one key give one SUCCESS and 9 refusals, with tokens growing by round", async () => {
      // The first request compiles the route under next dev.
      expect((await scenario().call(`key=warm-${crypto.randomUUID()}`)).status).toBe("SUCCESS");
      await concurrentRounds(scenario(), `once-${runtime}-${crypto.randomUUID()}`, 3, 2000);
    });

    it("a background job kept alive by waitUntil completes and releases its lock", async () => {
      await backgroundJob(scenario(), `background-${runtime}-${crypto.randomUUID()}`);
      expect(server.output()).not.toMatch(/liveness thread crashed|not supported in the Edge Runtime|Can't resolve|Cannot find module/);
    });
  });
});
