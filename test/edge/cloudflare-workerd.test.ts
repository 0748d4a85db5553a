import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { WORKERD_BUNDLE } from "../support/workerd-bundle.mjs";
import Redis from "ioredis";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, expect, it, onTestFinished } from "vitest";
import { startUpstashDevServer } from "../../adapters/upstash-dev/server";
import { startRedis } from "../support/redis-server.mjs";
import { waitFor } from "../support/wait-for";

/**
 * examples/cloudflare-worker, bundled against the *packed* package (npm pack,
 * unpacked into a scratch project) with @upstash/redis/cloudflare, runs in
 * workerd through Miniflare, without nodejs_compat.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
let redis: Awaited<ReturnType<typeof startRedis>>;
let rest: Awaited<ReturnType<typeof startUpstashDevServer>>;
let admin: Redis;
let mf: Miniflare;
let scratch: string;

/** The example's wrangler.toml, read as wrangler would for the fields the test needs (flat `key = "value"` lines). */
function wranglerToml(): Record<string, string> {
  const text = readFileSync(join(root, "examples/cloudflare-worker/wrangler.toml"), "utf8");
  return Object.fromEntries([...text.matchAll(/^(\w+) = "([^"]*)"$/gm)].map((m) => [m[1]!, m[2]!]));
}
const wrangler = wranglerToml();

async function bundleFromPackedPackage(): Promise<string> {
  scratch = mkdtempSync(join(tmpdir(), "pulselock-worker-"));
  const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", scratch], { cwd: root });
  const tarball = join(scratch, stdout.trim().split("\n").pop()!);
  const pkg = join(scratch, "node_modules", "pulselock");
  mkdirSync(pkg, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", pkg, "--strip-components=1"]);
  cpSync(join(root, "examples/cloudflare-worker/src"), join(scratch, "src"), { recursive: true });
  const out = await build({
    entryPoints: [join(scratch, wrangler.main!)],
    ...WORKERD_BUNDLE,
    nodePaths: [join(root, "node_modules")], // @upstash/redis comes from the repo; pulselock from the tarball
  });
  return out.outputFiles[0]!.text;
}

beforeAll(async () => {
  redis = await startRedis();
  rest = await startUpstashDevServer({ redisUrl: redis.url });
  admin = new Redis(redis.url);
  mf = new Miniflare({
    modules: true,
    script: await bundleFromPackedPackage(),
    compatibilityDate: wrangler.compatibility_date,
    // wrangler.toml sets no compatibility_flags: no nodejs_compat, which the test would otherwise pass on.
    compatibilityFlags: [],
    bindings: { UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: rest.token },
  });
}, 120_000);
afterAll(async () => {
  await mf?.dispose();
  admin?.disconnect();
  await rest?.close();
  await redis?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/**
 * Records how keys end, from Redis's keyspace notifications on this test's own redis-server: "del" (deleted)
 * or "expired" (left to their TTL), by key.
 */
async function watchKeyEnds(): Promise<{ ends: Map<string, string>; stop: () => void }> {
  await admin.config("SET", "notify-keyspace-events", "Egx");
  const sub = admin.duplicate();
  const ends = new Map<string, string>();
  sub.on("pmessage", (_pattern: string, channel: string, key: string) => ends.set(key, channel.slice(channel.lastIndexOf(":") + 1)));
  await sub.psubscribe("__keyevent@0__:del", "__keyevent@0__:expired");
  const stop = () => {
    sub.disconnect();
    void admin.config("SET", "notify-keyspace-events", "").catch(() => {});
  };
  onTestFinished(stop); // also when an assertion fails first
  return { ends, stop };
}

async function call(query: string): Promise<{ status: string; fencingToken?: number; holder?: string }> {
  const res = await mf.dispatchFetch(`http://localhost/?${query}`);
  return (await res.json()) as { status: string; fencingToken?: number };
}

it("5 concurrent requests for one key run the job exactly once", async () => {
  const key = `once-${crypto.randomUUID()}`;
  const results = await Promise.all(Array.from({ length: 5 }, () => call(`key=${key}&workMs=800`)));
  expect(results.filter((r) => r.status === "SUCCESS")).toHaveLength(1);
  expect(results.filter((r) => r.status === "SOMEONE_ELSE_HOLDS_LOCK")).toHaveLength(4);
});

it("fencing tokens increase across requests", async () => {
  const key = `tokens-${crypto.randomUUID()}`;
  const tokens: number[] = [];
  for (let i = 0; i < 3; i++) tokens.push((await call(`key=${key}`)).fencingToken!);
  expect(tokens[1]).toBeGreaterThan(tokens[0]!);
  expect(tokens[2]).toBeGreaterThan(tokens[1]!);
});

it("a lock held past the response stays alive through waitUntil and is released at the end", async () => {
  const key = `background-${crypto.randomUUID()}`;
  const watch = await watchKeyEnds();
  expect((await call(`key=${key}&workMs=4000&background=1`)).status).toBe("STARTED");
  const lockKey = `pl:{${key}}`;
  const record = await waitFor("the background job holds the lock", () => admin.get(lockKey));
  // pl1|token|acquiredAt|extendedAt|processHash|seq|trace: the holder's liveness record is pl:proc:<processHash>.
  const procKey = `pl:proc:${record.split("|")[4]}`;
  // Longer than reportTtlMs (3 s): only liveness writes from the isolate's timers keep it from being taken over.
  const meanwhile = await call(`key=${key}`);
  expect(meanwhile.status).toBe("SOMEONE_ELSE_HOLDS_LOCK");
  await new Promise((r) => setTimeout(r, 3_200));
  expect((await call(`key=${key}`)).status).toBe("SOMEONE_ELSE_HOLDS_LOCK");
  await waitFor("released at the end", async () => (await admin.exists(lockKey)) === 0, { timeoutMs: 15_000 });
  // Deleted within the isolate's waitUntil, not left to expire (Redis says which of the two happened).
  expect(await waitFor("the holder's liveness record to end", () => watch.ends.get(procKey), { timeoutMs: 10_000 })).toBe("del");
  watch.stop();
  // And nothing keeps running once no lock is held: no request over three liveness write intervals (500 ms).
  const before = rest.stats().requests;
  await new Promise((r) => setTimeout(r, 1_500));
  expect(rest.stats().requests).toEqual(before);
});
