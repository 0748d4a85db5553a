import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Miniflare } from "miniflare";
import { useUpstashStack } from "../support/upstash-stack";
import { type ScenarioApp, backgroundJob, concurrentRounds, expectNoCrossRequestTrouble, noKeysLeft } from "../support/lock-scenario";
import { bundleWorker, exampleWranglerToml, startWorker, usePackedProject } from "../support/packed-worker";

/**
 * examples/cloudflare-worker, bundled against the *packed* package (npm pack,
 * unpacked into a scratch project) with @upstash/redis/cloudflare, runs in
 * workerd through Miniflare, without nodejs_compat. Its Locker lives at module
 * scope and is shared by concurrent requests: each entry point passes
 * waitUntil its own way (per call from ctx, or the global one of
 * "cloudflare:workers" as the Locker's option).
 */
const stack = useUpstashStack();
const project = usePackedProject(["examples/cloudflare-worker/src"]);
const wrangler = exampleWranglerToml();

describe.each([
  { entry: wrangler.main!, how: "ctx.waitUntil passed per call" },
  { entry: "src/global-wait-until.ts", how: 'the global waitUntil of "cloudflare:workers" as the Locker\'s option' },
])("a module-scope Locker with $how", ({ entry }) => {
  let mf: Miniflare;
  const output: string[] = [];
  let app: ScenarioApp;

  beforeAll(async () => {
    // wrangler.toml sets no compatibility_flags, and startWorker passes none.
    const script = await bundleWorker(project.dir(), entry);
    mf = startWorker(script, { UPSTASH_REDIS_REST_URL: stack.rest.url, UPSTASH_REDIS_REST_TOKEN: stack.rest.token }, output);
    app = {
      call: async (query) => (await (await mf.dispatchFetch(`http://localhost/?${query}`)).json()) as never,
      output: () => output.join(""),
      admin: stack.admin,
    };
  }, 120_000);
  afterAll(async () => {
    await mf?.dispose();
  });

  it("10 concurrent requests for one key: one SUCCESS and 9 refusals, round after round, with growing tokens", async () => {
    await concurrentRounds(app, `once-${crypto.randomUUID()}`);
    expectNoCrossRequestTrouble(app.output());
  });

  it("a background job outlives its response through waitUntil, completes and deletes its lock; nothing is left", async () => {
    const key = `background-${crypto.randomUUID()}`;
    await backgroundJob(app, key);
    // The isolate deletes its liveness record when it holds nothing, within some request's waitUntil.
    await noKeysLeft(stack.admin);
    // And nothing keeps running once no lock is held: no request over three liveness write intervals (500 ms).
    const before = stack.rest.stats().requests;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(stack.rest.stats().requests).toEqual(before);
    expectNoCrossRequestTrouble(app.output());
  });

  it("concurrent requests for different keys overlap their jobs and all succeed", async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => app.call(`key=many-${i}-${crypto.randomUUID()}&workMs=1500`)));
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill("SUCCESS"));
    await noKeysLeft(stack.admin);
    expectNoCrossRequestTrouble(app.output());
  });
});
