// quick-start.mjs — REDIS_URL=redis://127.0.0.1:6379 node quick-start.mjs
import { Redis } from "ioredis";
import { Locker, LockStatus } from "pulselock";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const locker = new Locker({ database: redis });

const res = await locker.acquireAndRun("nightly-report", async (heartbeat) => {
  for (let part = 1; part <= 3; part++) {
    await heartbeat.delay(200); // one part of the job; heartbeat.signal aborts if the lock is lost
  }
  return "report built";
});
if (res.status === LockStatus.SUCCESS) console.log(res.result);
else console.log(`another process holds it: ${res.lockData.ownerHash}`);

// pulselock closes what it opened (its liveness thread and record); you close what you opened.
await locker.terminate();
await redis.quit();
