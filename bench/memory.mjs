// Memory: the settled RSS the liveness thread adds to a process, and the
// Redis bytes per held lock and per process (liveness) record, by
// MEMORY USAGE, beside the growth of used_memory per held lock.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Locker, RedisDatabase, LockStatus } from "pulselock";
import { closeIoredis, ioredis } from "./lib/clients.mjs";
import { warmLocker } from "./lib/peers.mjs";

const MB = 1024 * 1024;

async function livenessRss(redis, settleMs) {
  const script = fileURLToPath(new URL("./workers/liveness-rss.mjs", import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", script, redis.url, String(settleMs)], {
    timeout: settleMs * 4 + 30_000,
  });
  const { before, after } = JSON.parse(stdout.trim().split("\n").pop());
  return { beforeMb: before / MB, afterMb: after / MB, addedMb: (after - before) / MB };
}

async function usedMemory(admin) {
  return Number(/used_memory:(\d+)/.exec(await admin.info("memory"))[1]);
}

async function redisBytes({ redis, admin, locks }) {
  await admin.flushall();
  const client = ioredis(redis.url);
  const locker = new Locker({ database: new RedisDatabase(client) });
  try {
    await warmLocker(locker);
    const base = await usedMemory(admin);
    // Realistic names: a job kind and an id, as a fleet would lock them.
    const keys = Array.from({ length: locks }, (_, i) => `invoice-export:${100000 + i}`);
    const held = await Promise.all(keys.map((k) => locker.acquire(k)));
    if (held.some((r) => r.status !== LockStatus.SUCCESS)) throw new Error("a lock was not acquired");
    const grown = await usedMemory(admin);
    const lockKeys = await admin.keys("*pl:{*");
    const procKeys = await admin.keys("*pl:proc:*");
    const usage = async (k) => Number(await admin.memory("USAGE", k, "SAMPLES", "0"));
    const lockBytes = await Promise.all(lockKeys.slice(0, 200).map(usage));
    const sample = lockKeys[0];
    const result = {
      locks,
      bytesPerLock: lockBytes.reduce((a, b) => a + b, 0) / lockBytes.length,
      usedMemoryPerLock: (grown - base) / locks,
      bytesPerProcessRecord: await usage(procKeys[0]),
      sampleLock: { key: sample, value: await admin.get(sample) },
      sampleProcess: { key: procKeys[0], value: await admin.get(procKeys[0]) },
    };
    await Promise.all(held.map((r, i) => locker.release(keys[i], r.lockData)));
    return result;
  } finally {
    await locker.terminate();
    await closeIoredis(client);
  }
}

export async function measureMemory({ redis, admin, locks, settleMs, log }) {
  const rss = await livenessRss(redis, settleMs);
  log(`  liveness thread: +${rss.addedMb.toFixed(1)} MB settled RSS (${rss.beforeMb.toFixed(1)} → ${rss.afterMb.toFixed(1)} MB)`);
  const bytes = await redisBytes({ redis, admin, locks });
  log(
    `  Redis: ${bytes.bytesPerLock.toFixed(0)} B per held lock (MEMORY USAGE; used_memory grew ${bytes.usedMemoryPerLock.toFixed(0)} B per lock), ` +
      `${bytes.bytesPerProcessRecord} B per process record`,
  );
  return { rss, ...bytes };
}
