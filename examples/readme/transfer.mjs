// transfer.mjs — REDIS_URL=redis://127.0.0.1:6379 node transfer.mjs
import { Redis } from "ioredis";
import { Locker, LockStatus } from "pulselock";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const locker = new Locker({ database: redis });
const balances = new Map([
  ["alice", 100],
  ["bob", 0],
]);

/**
 * Both accounts, all or nothing: no other job on either account overlaps this one.
 * @param {string} from @param {string} to @param {number} amount
 */
async function transfer(from, to, amount) {
  const res = await locker.acquireAllAndRun([`account:${from}`, `account:${to}`], async (heartbeat) => {
    balances.set(from, (balances.get(from) ?? 0) - amount);
    await heartbeat(); // throws (and heartbeat.signal aborts) once either lock is lost
    balances.set(to, (balances.get(to) ?? 0) + amount);
    // Each key has its own fencing token: heartbeat.lockData.get(`account:${to}`).fencingToken
    return `moved ${amount} from ${from} to ${to}`;
  });
  // When a live process holds either account, nothing was held and the job did not run.
  return res.status === LockStatus.SUCCESS ? res.result : `busy: ${res.key} is held by ${res.lockData.ownerHash}`;
}

console.log(await transfer("alice", "bob", 10));
await locker.terminate();
await redis.quit();
