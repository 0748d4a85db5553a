import { fileURLToPath } from "node:url";
import { EdgeVM } from "@edge-runtime/vm";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { createJobHandler } from "../../examples/vercel-edge/handler";
import { useUpstashStack } from "../support/upstash-stack";
import { waitFor } from "../support/wait-for";

/**
 * examples/vercel-edge: the same handler on Vercel's edge runtime (@edge-runtime/vm)
 * and as a Node serverless function, with @vercel/functions' waitUntil. Vercel's
 * runtime hands waitUntil to the function through a request context under
 * Symbol.for("@vercel/request-context"); the tests install one that collects.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const CONTEXT = Symbol.for("@vercel/request-context");
const stack = useUpstashStack();

describe("examples/vercel-edge", () => {
  it("runs on the edge runtime: the request returns at once, the job keeps its lock through waitUntil", async () => {
    const out = await build({
      stdin: {
        contents: `import { createJobHandler } from "./examples/vercel-edge/handler.ts"; globalThis.createJobHandler = createJobHandler;`,
        resolveDir: root,
        loader: "ts",
      },
      bundle: true,
      write: false,
      format: "iife",
      platform: "browser",
      target: "es2022",
      conditions: ["edge-light", "worker", "browser"],
      alias: { pulselock: `${root}dist/index.js` },
      // As Next.js does for edge routes: process.env is inlined at build time (@vercel/functions reads it);
      // the runtime itself has no process.
      define: { "process.env": "{}" },
      logLevel: "silent",
    });
    const vm = new EdgeVM();
    expect(vm.evaluate("typeof process")).toBe("undefined");
    vm.evaluate(`globalThis.__pending = []; globalThis[Symbol.for("@vercel/request-context")] = { get: () => ({ waitUntil: (p) => globalThis.__pending.push(p) }) };`);
    vm.evaluate(out.outputFiles[0]!.text);
    const prefix = `vercel-edge-${crypto.randomUUID()}:`;
    vm.evaluate(`globalThis.handler = createJobHandler(${JSON.stringify({ url: stack.rest.url, token: stack.rest.token, prefix })});`);
    const key = `job-${crypto.randomUUID()}`;
    const started = await vm.evaluate(`handler(new Request("https://app.example/api/job?key=${key}&workMs=600&background=1")).then((r) => r.json())`);
    expect(started.status).toBe("STARTED");
    const busy = await vm.evaluate(`handler(new Request("https://app.example/api/job?key=${key}")).then((r) => r.json())`);
    expect(busy.status).toBe("SOMEONE_ELSE_HOLDS_LOCK");
    await vm.evaluate("Promise.all(globalThis.__pending)");
    const after = await vm.evaluate(`handler(new Request("https://app.example/api/job?key=${key}")).then((r) => r.json())`);
    expect(after.status).toBe("SUCCESS");
    await vm.evaluate("Promise.all(globalThis.__pending)");
    await waitFor("nothing left in Redis", async () => (await stack.admin.keys(`${prefix}*`)).length === 0, { timeoutMs: 5_000 });
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
      expect(await stack.admin.exists(`${prefix}pl:{${key}}`)).toBe(0);
      const next = await (await handler(new Request(`https://app.example/api/job?key=${key}`))).json();
      expect(next.status).toBe("SUCCESS");
    } finally {
      delete (globalThis as Record<symbol, unknown>)[CONTEXT];
    }
  });
});
