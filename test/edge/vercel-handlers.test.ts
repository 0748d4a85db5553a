import { bundleForEdge } from "./bundle-for-edge";
import { describe, expect, it } from "vitest";
import { createJobHandler } from "../../examples/vercel-edge/handler";
import { edgeVmWithWaitUntil } from "../support/edge-vm";
import { useUpstashStack } from "../support/upstash-stack";
import { waitFor } from "../support/wait-for";

/**
 * examples/vercel-edge: the same handler on Vercel's edge runtime (@edge-runtime/vm)
 * and as a Node serverless function, with @vercel/functions' waitUntil. Vercel's
 * runtime hands waitUntil to the function through a request context under
 * Symbol.for("@vercel/request-context"); the tests install one that collects.
 */
const CONTEXT = Symbol.for("@vercel/request-context");
const stack = useUpstashStack();

describe("examples/vercel-edge", () => {
  it("runs on the edge runtime: the request returns at once, the job keeps its lock through waitUntil", async () => {
    const script = await bundleForEdge(`import { createJobHandler } from "./examples/vercel-edge/handler.ts"; globalThis.createJobHandler = createJobHandler;`);
    const vm = edgeVmWithWaitUntil();
    expect(vm.evaluate("typeof process")).toBe("undefined");
    vm.evaluate(script);
    const prefix = `vercel-edge-${crypto.randomUUID()}:`;
    vm.evaluate(`globalThis.handler = createJobHandler(${JSON.stringify({ url: stack.rest.url, token: stack.rest.token, prefix })});`);
    const key = `job-${crypto.randomUUID()}`;
    const started = await vm.evaluate(`handler(new Request("https://app.example/api/job?key=${key}&workMs=600&background=1")).then((r) => r.json())`);
    expect(started.status).toBe("STARTED");
    // The response left before the job's acquire did; requests race in one isolate (each sends its own), so wait
    // until the job holds the lock before asking for it again.
    await waitFor("the background job to hold its lock", async () => (await stack.admin.exists(`${prefix}pl:{${key}}`)) === 1);
    const busy = await vm.evaluate(`handler(new Request("https://app.example/api/job?key=${key}")).then((r) => r.json())`);
    expect(busy.status).toBe("SOMEONE_ELSE_HOLDS_LOCK");
    await vm.evaluate("settleWaitUntil()");
    const after = await vm.evaluate(`handler(new Request("https://app.example/api/job?key=${key}")).then((r) => r.json())`);
    expect(after.status).toBe("SUCCESS");
    await vm.evaluate("settleWaitUntil()");
    // Once waitUntil's promises settle, the lock and the liveness record are deleted (not left to expire).
    expect(await stack.admin.keys(`${prefix}*`)).toEqual([]);
  });

  it("the App Router route (app/api/job/route.ts) runs on the edge runtime as deployed, configured from its environment", async () => {
    const script = await bundleForEdge(`import * as route from "./examples/vercel-edge/app/api/job/route.ts"; globalThis.route = route;`, {
      UPSTASH_REDIS_REST_URL: stack.rest.url,
      UPSTASH_REDIS_REST_TOKEN: stack.rest.token,
    });
    const vm = edgeVmWithWaitUntil();
    vm.evaluate(script);
    expect(vm.evaluate("route.runtime")).toBe("edge");
    const key = `route-${crypto.randomUUID()}`;
    const first = await vm.evaluate(`route.GET(new Request("https://app.example/api/job?key=${key}")).then((r) => r.json())`);
    expect(first.status).toBe("SUCCESS");
    const second = await vm.evaluate(`route.GET(new Request("https://app.example/api/job?key=${key}")).then((r) => r.json())`);
    expect(second.status).toBe("SUCCESS");
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
    await vm.evaluate("settleWaitUntil()");
    expect(await stack.admin.keys(`*${key}*`)).toEqual([]);
  });

  it("runs as a Node serverless function with @vercel/functions' waitUntil", async () => {
    const pending: Promise<unknown>[] = [];
    (globalThis as Record<symbol, unknown>)[CONTEXT] = { get: () => ({ waitUntil: (p: Promise<unknown>) => pending.push(p) }) };
    try {
      const prefix = `vercel-node-${crypto.randomUUID()}:`;
      const handler = createJobHandler({ url: stack.rest.url, token: stack.rest.token, prefix });
      const key = `job-${crypto.randomUUID()}`;
      const started = await (await handler(new Request(`https://app.example/api/job?key=${key}&workMs=600&background=1`))).json();
      expect(started.status).toBe("STARTED");
      expect(pending.length).toBeGreaterThanOrEqual(1);
      await waitFor("the job holds its lock", async () => (await stack.admin.exists(`${prefix}pl:{${key}}`)) === 1);
      await Promise.all(pending);
      // The lock is released once waitUntil's promises settle. (On Node the liveness thread keeps writing while the
      // Locker lives; a frozen function instance lets its record expire.)
      expect(await stack.admin.exists(`${prefix}pl:{${key}}`)).toBe(0);
      const next = await (await handler(new Request(`https://app.example/api/job?key=${key}`))).json();
      expect(next.status).toBe("SUCCESS");
    } finally {
      delete (globalThis as Record<symbol, unknown>)[CONTEXT];
    }
  });
});
