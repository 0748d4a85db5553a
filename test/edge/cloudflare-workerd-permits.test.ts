import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, expect, it } from "vitest";
import { expectNoCrossRequestTrouble, noKeysLeft } from "../support/lock-scenario";
import { bundleWorker, startWorker, usePackedProject } from "../support/packed-worker";
import { type PermitApp, backgroundPermit, semaphoreRounds, semaphoreWaiting, setsRefused, setsWaiting, togetherWhenIdle } from "../support/permit-scenario";
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

it("semaphore of limit 3, 10 concurrent acquireAndRun requests: 3 run at once, 7 are refused, round after round, tokens growing", async () => {
  await semaphoreRounds(app, `sem-${crypto.randomUUID()}`);
  await quietAfterwards();
});

it("semaphore of limit 3, 10 concurrent waitAndRun requests: all run, never more than 3 at once", async () => {
  await semaphoreWaiting(app, `sem-wait-${crypto.randomUUID()}`);
  await quietAfterwards();
});

it("acquireAllAndRun on overlapping sets [a,b] [b,c] [c,a], 9 concurrent requests: one runs, the others are refused, no key has two holders", async () => {
  await setsRefused(app);
  await quietAfterwards();
});

it("mutexAll on overlapping sets, 6 concurrent requests: all run, never two holders of a key, tokens growing per key", async () => {
  await setsWaiting(app);
  await quietAfterwards();
});

it("a background permit outlives its response through waitUntil, completes and frees its permit; nothing is left", async () => {
  await backgroundPermit(app, `sem-background-${crypto.randomUUID()}`);
  await quietAfterwards();
});

it("a lock, a permit and a set asked for in one request of an idle isolate all run, under one identity", async () => {
  await noKeysLeft(stack.admin); // idle: the liveness record was deleted, so this request makes a new identity
  await togetherWhenIdle(app);
  await quietAfterwards();
});
