import { EdgeVM } from "@edge-runtime/vm";
import { bundleForEdge } from "./bundle-for-edge";
import { expect, it } from "vitest";
import { useUpstashStack } from "../support/upstash-stack";

/** pulselock's root entry, built, with @upstash/redis, inside Vercel's edge runtime (no process, no require). */
const stack = useUpstashStack();

it("acquireAndRun is exclusive, fencing tokens grow, waitUntil covers runs, and liveness stops when idle", async () => {
  const vm = new EdgeVM();
  vm.evaluate(await bundleForEdge('import { runJob } from "./test/edge/fixtures/edge-job.ts"; globalThis.runJob = runJob;'));
  const prefix = `edge-${crypto.randomUUID()}:`;
  const args = { url: stack.rest.url, token: stack.rest.token, key: `job-${crypto.randomUUID()}`, prefix };
  const result = await vm.evaluate(`runJob(${JSON.stringify(args)})`);
  // Asked of the VM itself: inside the bundle, esbuild rewrites `typeof require` to its own shim.
  expect(vm.evaluate("[typeof process, typeof require, typeof EdgeRuntime].join()")).toBe("undefined,undefined,string");
  expect(result.environment.process).toBe("undefined");
  expect(result.refused).toBe("SOMEONE_ELSE_HOLDS_LOCK");
  expect(typeof result.first).toBe("number");
  expect(result.second).toBeGreaterThan(result.first);
  expect(result.lateDone).toBe(true);
  expect(result.waitUntilCalls).toBeGreaterThanOrEqual(4);
  // Nothing is held any more: no lock records, and the liveness records were deleted, not left to expire,
  // before the last waitUntil promise settled.
  expect(result.keysLeft).toEqual([]);
  // And nothing keeps running: no request reaches Redis over five liveness write intervals (reportWriteMs 200).
  const before = stack.rest.stats().requests;
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(stack.rest.stats().requests).toEqual(before);
});
