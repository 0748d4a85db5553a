// One of the singleton-job workers: runs every job key of its share once
// through acquireAndRun, `concurrency` at a time. Forked by singleton-jobs.mjs;
// talks over IPC: "ready" → waits for "start" → { done, failed }.
import { Locker, RedisDatabase, LockStatus } from "pulselock";
import { closeIoredis, ioredis } from "../lib/clients.mjs";
import { warmLocker } from "../lib/peers.mjs";

const [url, prefix, index, workers, jobs, concurrency, warmup] = process.argv.slice(2);
const client = ioredis(url, { keyPrefix: prefix });
const locker = new Locker({ database: new RedisDatabase(client) });
await warmLocker(locker);
// Warm the code paths (JIT) on keys of our own, as BullMQ's workers are warmed with jobs of their own.
for (let i = 0; i < Number(warmup); i++) await locker.acquireAndRun(`warmup-${index}-${i}`, async () => {});
process.send({ type: "ready" });
await new Promise((resolve) => process.once("message", resolve));
const cpu = process.cpuUsage();

// Job keys index, index + workers, …: every key is run exactly once across the fleet.
let next = Number(index);
let done = 0;
let failed = 0;
const job = async () => {};
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    for (; next < Number(jobs);) {
      const key = `job-${next}`;
      next += Number(workers);
      const res = await locker.acquireAndRun(key, job);
      if (res.status === LockStatus.SUCCESS) done++;
      else failed++;
    }
  }),
);
const { user, system } = process.cpuUsage(cpu);
process.send({ type: "done", done, failed, cpuUs: user + system });
await locker.terminate();
await closeIoredis(client);
process.disconnect();
