// semaphore.mjs — REDIS_URL=redis://127.0.0.1:6379 node semaphore.mjs
import { Redis } from "ioredis";
import { Locker } from "pulselock";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const locker = new Locker({ database: redis });
const exports = locker.semaphore("exports:tenant-42", { limit: 3 }); // at most 3 exports of this tenant at a time

let running = 0;
const tokens = await Promise.all(
  [1, 2, 3, 4, 5].map((n) =>
    // waitAndRun waits for a free permit (a release wakes it); acquireAndRun would answer SOMEONE_ELSE_HOLDS_LOCK instead
    exports.waitAndRun({ timeoutMs: 30_000, trace: `export ${n}` }, async (heartbeat) => {
      running++;
      if (running > 3) throw new Error("more than 3 at once");
      console.log(`export ${n} runs with ${(await exports.readHolders()).length} permits held`);
      await heartbeat.delay(200); // the work; heartbeat.signal aborts if the permit is lost
      running--;
      return heartbeat.lockData.fencingToken; // strictly increasing per semaphore key
    }),
  ),
);
console.log(`5 exports done, at most 3 at once; tokens increase: ${[...tokens].sort((a, b) => a - b).every((t, i, all) => i === 0 || t > all[i - 1])}`);

await locker.terminate();
await redis.quit();
