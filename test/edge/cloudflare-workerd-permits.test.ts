import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, expect } from "vitest";
import { expectNoCrossRequestTrouble, noKeysLeft } from "../support/lock-scenario";
import { bundleWorker, startWorker, usePackedProject } from "../support/packed-worker";
import { type PermitApp, permitScenarioTests } from "../support/permit-scenario";
import { useUpstashStack } from "../support/upstash-stack";

/**
 * Semaphores and multi-key sets in workerd (issue 20): test/edge/fixtures/workerd-permits.ts, bundled against the
 * *packed* package with @upstash/redis/cloudflare, runs through Miniflare without nodejs_compat. One Locker at
 * module scope serves every request, concurrent ones included, with ctx.waitUntil passed per call.
 */
const stack = useUpstashStack();
const project = usePackedProject(["test/edge/fixtures/workerd-permits.ts", "test/edge/fixtures/permit-routes.ts"]);
let mf: Miniflare;
const output: string[] = [];
let app: PermitApp;

beforeAll(async () => {
  const script = await bundleWorker(project.dir(), "src/workerd-permits.ts");
  mf = startWorker(script, { UPSTASH_REDIS_REST_URL: stack.rest.url, UPSTASH_REDIS_REST_TOKEN: stack.rest.token }, output);
  app = {
    get: async (path) => (await (await mf.dispatchFetch(`http://localhost${path}`)).json()) as never,
    output: () => output.join(""),
    admin: stack.admin,
    prefix: "",
  };
}, 120_000);
afterAll(async () => {
  await mf?.dispose();
});

/** Nothing left in Redis, no trouble between requests, and no request to Redis over three liveness write intervals. */
async function quietAfterwards(): Promise<void> {
  await noKeysLeft(stack.admin);
  expectNoCrossRequestTrouble(app.output());
  const before = stack.rest.stats().requests;
  await new Promise((r) => setTimeout(r, 1_500));
  expect(stack.rest.stats().requests).toEqual(before);
}

permitScenarioTests(
  () => app,
  () => stack.admin,
  quietAfterwards,
);
