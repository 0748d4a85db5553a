import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { livenessProxy, type LivenessAnswer } from "../support/liveness-proxy";
import { expectNoCrossRequestTrouble, noKeysLeft } from "../support/lock-scenario";
import { bundleWorker, startWorker, usePackedProject } from "../support/packed-worker";
import { useUpstashStack } from "../support/upstash-stack";
import { waitFor } from "../support/wait-for";

/**
 * On Cloudflare Workers a request that ends takes its unsettled I/O and its timers with it: workerd never
 * settles them. The module-scope Locker's liveness is shared by every request, so no request's end may leave
 * it waiting for good. Found by an attack pass with `wrangler dev`; here through Miniflare's workerd, with
 * test/edge/fixtures/workerd-orphans.ts bundled against the packed package (reportWriteMs 500, reportTtlMs 3000).
 */
const stack = useUpstashStack();

const project = usePackedProject(["test/edge/fixtures/workerd-orphans.ts"]);
let mf: Miniflare;
let output: string[];

const call = async (query: string) => {
  const res = await mf.dispatchFetch(`http://localhost/?${query}`);
  const text = await res.text();
  return { http: res.status, body: text };
};

let script: string;
beforeAll(async () => {
  script = await bundleWorker(project.dir(), "src/workerd-orphans.ts");
}, 120_000);
beforeEach(async () => {
  // A fresh isolate per test: its Locker starts with no identity.
  await mf?.dispose();
  output = [];
  mf = startWorker(script, { UPSTASH_REDIS_REST_URL: stack.rest.url, UPSTASH_REDIS_REST_TOKEN: stack.rest.token }, output);
});
afterAll(async () => {
  await mf?.dispose();
});

/**
 * Runs `body` against a fresh isolate whose Upstash traffic passes a livenessProxy answering liveness writes as
 * `answer` says; at the end no key may be left and workerd must have printed no cross-request warning.
 */
async function withLivenessProxy(answer: (index: number) => LivenessAnswer, body: () => Promise<void>): Promise<void> {
  const proxy = await livenessProxy(stack.rest.url, answer);
  await mf.dispose();
  mf = startWorker(script, { UPSTASH_REDIS_REST_URL: proxy.url, UPSTASH_REDIS_REST_TOKEN: stack.rest.token }, output);
  try {
    await body();
    await noKeysLeft(stack.admin);
    expectNoCrossRequestTrouble(output.join(""));
  } finally {
    await mf.dispose();
    mf = undefined as unknown as Miniflare;
    await proxy.close();
  }
}

it("a job started without waitUntil, whose request ends at once, does not break the isolate's later jobs", async () => {
  // The first acquire of an idle isolate writes a new identity's liveness record; this request ends before the reply.
  expect((await call(`key=orphan-${crypto.randomUUID()}&workMs=1000&background=1&noWaitUntil=1`)).http).toBe(200);
  // Later requests with waitUntil, each holding its lock past reportTtlMs: only liveness rewrites keep it.
  for (let i = 0; i < 2; i++) {
    const key = `after-${i}-${crypto.randomUUID()}`;
    await call(`key=${key}&workMs=4000`);
    expect(output.join(""), "a later job lost its lock").toContain(`job SUCCESS: ${key}`);
  }
  expectNoCrossRequestTrouble(output.join(""));
}, 60_000);

it("a long job keeps its lock while short jobs come and go and liveness writes are slow", async () => {
  // Liveness writes are answered 300 ms late: a short job's request often ends before the reply to a rewrite its own
  // beat sent, and workerd never settles that write.
  await withLivenessProxy(
    () => ({ delayMs: 300 }),
    async () => {
      const key = `long-${crypto.randomUUID()}`;
      expect((await call(`key=${key}&workMs=7000&background=1`)).http).toBe(200);
      const until = Date.now() + 6_000;
      const shorts: Promise<unknown>[] = [];
      for (let i = 0; Date.now() < until; i++) {
        shorts.push(call(`key=short-${i}-${crypto.randomUUID()}&workMs=130`));
        await new Promise((r) => setTimeout(r, 20));
      }
      await Promise.all(shorts);
      await waitFor("the long job's end", () => output.join("").includes(`: ${key}`), { timeoutMs: 30_000 });
      expect(output.join(""), "the long job lost its lock").toContain(`job SUCCESS: ${key}`);
    },
  );
}, 90_000);

it("a first liveness write that fails after another request's write succeeded does not hold its own call back", async () => {
  // The isolate's first call sends the new identity's first write; it fails (502), but only after a second call,
  // which came meanwhile, wrote the same identity itself (its own request's I/O). The first call's start must then
  // go on, not wait reporterWorkerSpawnTimeoutMs (15 s) and fail with a LivenessError although the record is there.
  let seen = 0;
  const answer = (index: number): LivenessAnswer => {
    seen = index + 1;
    return index === 0 ? { delayMs: 1500, status: 502 } : { delayMs: 0 };
  };
  await withLivenessProxy(answer, async () => {
    const first = `first-${crypto.randomUUID()}`;
    const second = `second-${crypto.randomUUID()}`;
    const started = Date.now();
    const firstCall = call(`key=${first}&workMs=100`);
    await waitFor("the first liveness write at the proxy", () => seen >= 1, { timeoutMs: 10_000 });
    await call(`key=${second}&workMs=100`);
    expect(output.join(""), "the second call, which wrote the record itself").toContain(`job SUCCESS: ${second}`);
    await firstCall;
    expect(output.join(""), "the first call").toContain(`job SUCCESS: ${first}`);
    // Well inside the 15 s it waited before (a loose bound: the point is that it did not time out).
    expect(Date.now() - started).toBeLessThan(10_000);
  });
}, 60_000);
