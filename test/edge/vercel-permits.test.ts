import type { EdgeVM } from "@edge-runtime/vm";
import { afterAll, beforeAll, expect } from "vitest";
import { bundleForEdge } from "./bundle-for-edge";
import { edgeVmWithWaitUntil } from "../support/edge-vm";
import { noKeysLeft } from "../support/lock-scenario";
import { type PermitApp, permitScenarioTests } from "../support/permit-scenario";
import { useUpstashStack } from "../support/upstash-stack";

/**
 * Semaphores and multi-key sets on Vercel's edge runtime (@edge-runtime/vm, issue 20): test/edge/fixtures/
 * edge-permits.ts with pulselock's built root entry and @upstash/redis. One handler, so one Locker, serves every
 * request of the isolate, concurrent ones included; waitUntil comes from @vercel/functions.
 */
const stack = useUpstashStack();
const prefix = `vercel-permits-${crypto.randomUUID()}:`;
let vm: EdgeVM;
let app: PermitApp;

beforeAll(async () => {
  const script = await bundleForEdge(
    'import { createPermitHandler } from "./test/edge/fixtures/edge-permits.ts"; globalThis.createPermitHandler = createPermitHandler;',
  );
  vm = edgeVmWithWaitUntil();
  expect(vm.evaluate("typeof process")).toBe("undefined");
  vm.evaluate(script);
  // What the function prints, kept for the test to read.
  vm.evaluate(`globalThis.__output = []; console.log = (...args) => __output.push(args.join(" "));`);
  vm.evaluate(`globalThis.handler = createPermitHandler(${JSON.stringify({ url: stack.rest.url, token: stack.rest.token, prefix })});`);
  app = {
    get: (path) => vm.evaluate(`handler(new Request(${JSON.stringify(`https://app.example${path}`)})).then((r) => r.json())`),
    output: () => vm.evaluate(`__output.join("\\n")`),
    admin: stack.admin,
    prefix,
  };
});
afterAll(async () => {
  await vm?.evaluate("settleWaitUntil()");
});

/** Every waitUntil promise settles, nothing is left in Redis, and no request reaches it over three liveness write intervals. */
async function quietAfterwards(): Promise<void> {
  await vm.evaluate("settleWaitUntil()");
  await noKeysLeft(stack.admin);
  const before = stack.rest.stats().requests;
  await new Promise((r) => setTimeout(r, 1_500));
  expect(stack.rest.stats().requests).toEqual(before);
}

permitScenarioTests(
  () => app,
  () => stack.admin,
  quietAfterwards,
);
