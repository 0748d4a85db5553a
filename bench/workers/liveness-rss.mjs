// Measures, in a fresh process, the settled RSS that pulselock's liveness
// thread adds: RSS with the client connected and pulselock loaded, then RSS
// after the first acquire started the thread, each after `settleMs` and a GC.
// Run with --expose-gc; prints one JSON line.
import { Locker, RedisDatabase } from "pulselock";
import { closeIoredis, ioredis } from "../lib/clients.mjs";
import { sleep } from "../lib/loop.mjs";
import { warmLocker } from "../lib/peers.mjs";

const [url, settleMs] = process.argv.slice(2);

/** RSS once it stops moving: the median of samples taken over the last half of settleMs. */
async function settledRss() {
  await sleep(Number(settleMs) / 2);
  const samples = [];
  for (let i = 0; i < 10; i++) {
    globalThis.gc();
    samples.push(process.memoryUsage().rss);
    await sleep(Number(settleMs) / 20);
  }
  return samples.sort((a, b) => a - b)[5];
}

const client = ioredis(url);
const locker = new Locker({ database: new RedisDatabase(client) });
// The same work on the main thread before and after: only the thread differs.
await locker.readLockData("rss-probe");
const before = await settledRss();
await warmLocker(locker);
await locker.readLockData("rss-probe");
const after = await settledRss();
process.stdout.write(JSON.stringify({ before, after }) + "\n");
await locker.terminate();
await closeIoredis(client);
