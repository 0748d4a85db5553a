// worker.mjs — REDIS_URL=redis://127.0.0.1:6379 node worker.mjs
import { Locker, LockStatus } from "pulselock";
import { db } from "./db.mjs";

// The liveness thread imports db.mjs too and builds its own connection from it.
const locker = new Locker({ database: { moduleName: new URL("./db.mjs", import.meta.url).href, exportName: "db" } });

const res = await locker.acquireAndRun("sync-invoices", async (heartbeat) => {
  let synced = 0;
  for (const batch of [1, 2, 3]) {
    await syncBatch(batch, heartbeat.signal); // stops at once when the lock is lost
    await heartbeat(); // free between intervals; throws LockError when the lock is lost
    synced++;
  }
  return synced;
});
if (res.status === LockStatus.SUCCESS) console.log(`synced ${res.result} batches`);
else console.log(`busy: ${res.lockData.ownerHash} holds it`);

await locker.terminate();
await db.close(); // quits the ioredis client that db.mjs created

/**
 * Stands in for real work that takes an AbortSignal (fetch, a database driver, …).
 * @param {number} batch
 * @param {AbortSignal} signal
 */
function syncBatch(batch, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, 100, batch);
    signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}
