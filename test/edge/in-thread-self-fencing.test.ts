import { Redis as Upstash } from "@upstash/redis";
import { afterAll, beforeAll, expect, it } from "vitest";
// The runtime-agnostic entry, as edge isolates get it: liveness from the current thread's timers.
import { Locker, RedisDatabase, isLockError } from "pulselock/core";
import { startUpstashDevServer } from "../../cli/upstash-dev/server";
import { partitionRace } from "../conformance/partition";
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
  const { abortedAt, takenAt, cutAt, outcome } = await partitionRace(owner, other, proxy, `edge-partition-${crypto.randomUUID()}`);
  expect(abortedAt).toBeLessThanOrEqual(takenAt);
  expect(takenAt - cutAt).toBeLessThanOrEqual(options.reportTtlMs + 1_000);
  expect(isLockError(outcome)).toBe(true);
  await Promise.all([owner.terminate(), other.terminate()]);
});
