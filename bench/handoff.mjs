// Hand-off on release to a waiting mutex() caller: the time from the holder
// ending its job (acquireAndRun then releases) until the waiter's function
// starts. Two Lockers (two identities, two clients) in this process, so both
// moments come from one clock. "pub/sub": the release wakes the waiter;
// "polling": neither Locker's transport has pub/sub, so the waiter finds the
// free lock on its next backoff retry (mutex defaults: 100 ms doubling to 2 s).
import { Locker, RedisDatabase } from "pulselock";
import { ioredisTransport } from "pulselock/ioredis";
import { closeIoredis, ioredis } from "./lib/clients.mjs";
import { percentile, sleep } from "./lib/loop.mjs";
import { warmLocker } from "./lib/peers.mjs";

/** How long the holder keeps the lock once the waiter waits: random, so polling meets every backoff phase. */
export const HOLD_MS = [50, 500];

function database(client, pubsub) {
  if (pubsub) return new RedisDatabase(client);
  const { openSubscriber, ...transport } = ioredisTransport(client);
  return new RedisDatabase(transport);
}

async function runMode({ redis, pubsub, repeats }) {
  const clients = [ioredis(redis.url), ioredis(redis.url)];
  const [holder, waiter] = clients.map((c) => new Locker({ database: database(c, pubsub) }));
  await Promise.all([warmLocker(holder), warmLocker(waiter)]);
  const latencies = [];
  try {
    for (let i = 0; i < repeats; i++) {
      const key = `handoff:${pubsub ? "pubsub" : "poll"}:${i}`;
      let endJob;
      let held;
      const heldNow = new Promise((r) => (held = r));
      const holding = holder.acquireAndRun(key, () => (held(), new Promise((r) => (endJob = r))));
      await heldNow;
      let startedAt;
      const waiting = waiter.mutex(key, { timeoutMs: 30_000 }, () => (startedAt = performance.now()));
      await sleep(HOLD_MS[0] + Math.random() * (HOLD_MS[1] - HOLD_MS[0]));
      const releasedAt = performance.now();
      endJob();
      await Promise.all([holding, waiting]);
      latencies.push(startedAt - releasedAt);
    }
  } finally {
    await Promise.all([holder.terminate(), waiter.terminate()]);
    await closeIoredis(...clients);
  }
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), repeats };
}

export async function measureHandoff({ redis, repeats, log }) {
  const results = {};
  for (const [mode, pubsub] of [
    ["pub/sub", true],
    ["polling", false],
  ]) {
    const r = (results[mode] = await runMode({ redis, pubsub, repeats }));
    log(`  ${mode}: p50 ${r.p50.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms (${repeats} hand-offs)`);
  }
  return { holdMs: HOLD_MS, modes: results };
}
