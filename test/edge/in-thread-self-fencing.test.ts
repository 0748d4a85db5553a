import { Redis as Upstash } from "@upstash/redis";
import { afterAll, beforeAll, expect, it } from "vitest";
// The runtime-agnostic entry, as edge isolates get it: liveness from the current thread's timers.
import { Locker, LockStatus, RedisDatabase, isLockError } from "pulselock/core";
import { startUpstashDevServer } from "../../adapters/upstash-dev/server";
import { startRedis } from "../support/redis-server.mjs";
import { startProxy } from "../support/tcp-proxy.mjs";

/**
 * An isolate that stops refreshing its liveness (its network to Upstash is
 * cut) is taken over within reportTtlMs, and its own signal aborts first.
 */
let redis: Awaited<ReturnType<typeof startRedis>>;
let rest: Awaited<ReturnType<typeof startUpstashDevServer>>;
let proxy: Awaited<ReturnType<typeof startProxy>>;

beforeAll(async () => {
  redis = await startRedis();
  rest = await startUpstashDevServer({ redisUrl: redis.url });
  proxy = await startProxy(rest.port);
});
afterAll(async () => {
  await proxy.close();
  await rest.close();
  await redis.close();
});

it("a cut-off isolate aborts before anyone else takes its lock, and the takeover comes within reportTtlMs", async () => {
  const options = { reportWriteMs: 200, reportTtlMs: 1000, lockRecheckMs: 100 };
  const db = (url: string) => new RedisDatabase(new Upstash({ url, token: rest.token, enableTelemetry: false, retry: false }));
  const owner = new Locker({ database: db(`http://127.0.0.1:${proxy.port}`), ...options });
  const other = new Locker({ database: db(rest.url), ...options });
  const key = `edge-partition-${crypto.randomUUID()}`;
  let abortedAt = Infinity;
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const run = owner
    .acquireAndRun(key, async (heartbeat) => {
      heartbeat.signal.addEventListener("abort", () => (abortedAt = performance.now()));
      markStarted();
      await new Promise((resolve) => heartbeat.signal.addEventListener("abort", resolve));
    })
    .then(() => "resolved", (error: unknown) => error);
  await started;
  proxy.blackhole();
  const cutAt = performance.now();
  let takenAt = 0;
  for (;;) {
    const res = await other.acquire(key);
    if (res.status === LockStatus.SUCCESS) {
      takenAt = performance.now();
      break;
    }
    if (performance.now() - cutAt > 20_000) throw new Error("never taken over");
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(abortedAt).toBeLessThanOrEqual(takenAt);
  expect(takenAt - cutAt).toBeLessThanOrEqual(options.reportTtlMs + 1_000);
  expect(isLockError(await run)).toBe(true);
  proxy.pass({ drop: true });
  proxy.dropConnections();
  await Promise.all([owner.terminate(), other.terminate()]);
});
