// bun-job.ts — REDIS_URL=redis://127.0.0.1:6379 bun bun-job.ts
import { Redis } from "ioredis";
import { Locker, LockStatus, RedisDatabase } from "pulselock";

// An instance is fine: the liveness thread rebuilds the client from its options.
const db = new RedisDatabase(new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379"), { prefix: "jobs:" });
const locker = new Locker({ database: db });

const res = await locker.acquireAndRun("reindex", async (heartbeat) => {
  await heartbeat.delay(200); // the work
  return "reindexed";
});
console.log(res.status === LockStatus.SUCCESS ? res.result : `held by ${res.lockData.ownerHash}`);

await locker.terminate();
await db.close();
