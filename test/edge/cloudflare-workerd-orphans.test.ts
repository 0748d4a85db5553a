import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
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

/**
 * An HTTP proxy in front of the Upstash server that answers liveness writes (a request naming a `pl:proc:` key)
 * `delayMs` late and everything else at once: the request that beat a rewrite out may end before its reply.
 */
function slowLivenessProxy(target: string, delayMs: number): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const upstream = httpRequest(new URL(req.url ?? "/", target), { method: req.method, headers: req.headers }, (answer) => {
        const parts: Buffer[] = [];
        answer.on("data", (c: Buffer) => parts.push(c));
        answer.on("end", () => {
          const send = () => res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(parts));
          if (body.includes("pl:proc:")) setTimeout(send, delayMs);
          else send();
        });
      });
      upstream.on("error", () => res.writeHead(502).end());
      upstream.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}
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
  const proxy = await slowLivenessProxy(stack.rest.url, 300);
  await mf.dispose();
  mf = startWorker(script, { UPSTASH_REDIS_REST_URL: proxy.url, UPSTASH_REDIS_REST_TOKEN: stack.rest.token }, output);
  try {
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
    await noKeysLeft(stack.admin);
    expectNoCrossRequestTrouble(output.join(""));
  } finally {
    await mf.dispose();
    mf = undefined as unknown as Miniflare;
    await new Promise((r) => proxy.server.close(r));
  }
}, 90_000);
