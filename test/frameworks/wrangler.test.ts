import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type ScenarioApp, backgroundJob, concurrentRounds, expectNoCrossRequestTrouble, noKeysLeft } from "../support/lock-scenario";
import { useUpstashStack } from "../support/upstash-stack";
import { type AppServer, type PreparedApp, getJson, prepareApp, startServer } from "./app-server";

/**
 * examples/cloudflare-worker (one Locker per isolate, at module scope) under the real `wrangler dev`, both entry
 * points: ctx.waitUntil per call, and the global waitUntil of "cloudflare:workers". Wrangler 4 needs
 * Node >= 22.12, which the `node` package from npm provides.
 */
const NODE_22 = "node@22.23.3";
const stack = useUpstashStack();
let app: PreparedApp;

beforeAll(async () => {
  app = await prepareApp("cloudflare-worker", [NODE_22]);
}, 600_000);
afterAll(() => app?.remove());

describe.each([
  { entry: "src/index.ts", how: "ctx.waitUntil per call" },
  { entry: "src/global-wait-until.ts", how: 'the global waitUntil of "cloudflare:workers"' },
])("wrangler dev $entry ($how)", ({ entry }) => {
  let server: AppServer;
  let scenario: ScenarioApp;

  beforeAll(async () => {
    const node = join(app.dir, "node_modules/.bin/node");
    const wrangler = join(app.dir, "node_modules/wrangler/bin/wrangler.js");
    server = await startServer(
      app.dir,
      node,
      [
        wrangler,
        "dev",
        entry,
        "--ip",
        "127.0.0.1",
        "--port",
        "{port}",
        "--inspector-port",
        "0",
        "--var",
        `UPSTASH_REDIS_REST_URL:${stack.rest.url}`,
        "--var",
        `UPSTASH_REDIS_REST_TOKEN:${stack.rest.token}`,
      ],
      /Ready on http/,
      { WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1" },
    );
    scenario = { call: (query) => getJson(`${server.url}/?${query}`), output: () => server.output(), admin: stack.admin };
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it("10 concurrent requests for one key give one SUCCESS and 9 refusals, with tokens growing by round", async () => {
    await concurrentRounds(scenario, `once-${crypto.randomUUID()}`, 3, 2000);
    expectNoCrossRequestTrouble(server.output());
  });

  it("a background job kept alive by waitUntil completes and releases its lock; nothing is left in Redis", async () => {
    await backgroundJob(scenario, `background-${crypto.randomUUID()}`);
    await noKeysLeft(stack.admin);
    expectNoCrossRequestTrouble(server.output());
  });
});
