// A nightly report job for Bun, started by cron on every machine of a fleet:
// only one machine builds the report, the others see that it is taken and
// exit. pulselock writes this process's liveness from a worker_threads thread
// (Bun resolves pulselock's Node entry through the "bun" condition), so a
// batch that blocks the event loop does not cost the lock; if the machine
// dies mid-report, another run takes the job over within reportTtlMs.
//
//   REDIS_URL=redis://127.0.0.1:<port> bun examples/bun/nightly-report.ts
import Redis from "ioredis";
import { Locker, LockStatus, RedisDatabase } from "pulselock";

const url = process.env.REDIS_URL;
if (!url) throw new Error("nightly-report: set REDIS_URL");
const batches = Number(process.env.BATCHES ?? 10);
const batchMs = Number(process.env.BATCH_MS ?? 200);
const day = new Date().toISOString().slice(0, 10);

const redis = new Redis(url);
// An instance is fine here: the liveness thread rebuilds the client from its options.
const locker = new Locker({ database: new RedisDatabase(redis, { prefix: "reports:" }) });
const print = (event: Record<string, unknown>) => console.log(JSON.stringify(event));

/** One batch of the report: summing a slice of the day's numbers (a stand-in for the real queries). */
function buildBatch(batch: number): number {
  let sum = 0;
  const end = performance.now() + batchMs;
  while (performance.now() < end) sum += batch; // CPU-bound on purpose: the event loop is blocked
  return sum;
}

const res = await locker.acquireAndRun(`nightly-report:${day}`, async (heartbeat) => {
  const token = heartbeat.lockData.fencingToken;
  print({ event: "started", day, token });
  let total = 0;
  for (let batch = 0; batch < batches; batch++) {
    total += buildBatch(batch);
    await heartbeat(); // throws if the lock was lost: stop rather than write a report twice
  }
  // Writes downstream carry the fencing token, so a stale owner's late write can be refused.
  await redis.set(`reports:${day}`, JSON.stringify({ total, token }));
  return { token, batches };
});

if (res.status === LockStatus.SUCCESS) print({ event: "ran", ...res.result });
else print({ event: "skipped", heldBy: res.lockData.processHash, since: res.lockData.acquiredAt });

await locker.terminate();
await redis.quit();
