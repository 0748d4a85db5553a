import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { WORKERD_BUNDLE } from "../support/workerd-bundle.mjs";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useUpstashStack } from "../support/upstash-stack";
import { type ScenarioApp, backgroundJob, concurrentRounds, expectNoCrossRequestTrouble, noKeysLeft } from "../support/lock-scenario";

/**
 * examples/cloudflare-worker, bundled against the *packed* package (npm pack,
 * unpacked into a scratch project) with @upstash/redis/cloudflare, runs in
 * workerd through Miniflare, without nodejs_compat. Its Locker lives at module
 * scope and is shared by concurrent requests: each entry point passes
 * waitUntil its own way (per call from ctx, or the global one of
 * "cloudflare:workers" as the Locker's option).
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const stack = useUpstashStack();
let scratch: string;

/** The example's wrangler.toml, read as wrangler would for the fields the test needs (flat `key = "value"` lines). */
function wranglerToml(): Record<string, string> {
  const text = readFileSync(join(root, "examples/cloudflare-worker/wrangler.toml"), "utf8");
  return Object.fromEntries([...text.matchAll(/^(\w+) = "([^"]*)"$/gm)].map((m) => [m[1]!, m[2]!]));
}
const wrangler = wranglerToml();

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "pulselock-worker-"));
  const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", scratch], { cwd: root });
  const tarball = join(scratch, stdout.trim().split("\n").pop()!);
  const pkg = join(scratch, "node_modules", "pulselock");
  mkdirSync(pkg, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", pkg, "--strip-components=1"]);
  cpSync(join(root, "examples/cloudflare-worker/src"), join(scratch, "src"), { recursive: true });
}, 120_000);
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [join(scratch, entry)],
    ...WORKERD_BUNDLE,
    nodePaths: [join(root, "node_modules")], // @upstash/redis comes from the repo; pulselock from the tarball
  });
  return out.outputFiles[0]!.text;
}

/** Collects what workerd prints (console.log of the Worker, and its own warnings). */
function collect(stream: Readable, into: string[]): void {
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => into.push(chunk));
}

describe.each([
  { entry: wrangler.main!, how: "ctx.waitUntil passed per call" },
  { entry: "src/global-wait-until.ts", how: 'the global waitUntil of "cloudflare:workers" as the Locker\'s option' },
])("a module-scope Locker with $how", ({ entry }) => {
  let mf: Miniflare;
  const output: string[] = [];
  let app: ScenarioApp;

  beforeAll(async () => {
    mf = new Miniflare({
      modules: true,
      script: await bundle(entry),
      compatibilityDate: wrangler.compatibility_date,
      // wrangler.toml sets no compatibility_flags: no nodejs_compat, which the test would otherwise pass on.
      compatibilityFlags: [],
      bindings: { UPSTASH_REDIS_REST_URL: stack.rest.url, UPSTASH_REDIS_REST_TOKEN: stack.rest.token },
      handleRuntimeStdio: (stdout: Readable, stderr: Readable) => (collect(stdout, output), collect(stderr, output)),
    });
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
